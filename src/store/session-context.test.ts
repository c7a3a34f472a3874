/** StoreCache.pruneExpired: idle devices' copies and write marks are released without waiting for a set(). */
import type { Observation } from '../server/observation/observation-store';
import { registration } from '../../test/support/profile-fixtures';
import { StoreCache } from './session-context';

const REG = registration({ id: 'r1', endpoint: 'ep' });
const OBS: Observation = {
  token: 'tok',
  registrationId: 'r1',
  endpoint: 'ep',
  kind: 'single',
  paths: ['/3303/0/5700'],
  createdAt: 0,
};

describe('StoreCache.pruneExpired', () => {
  it('prunes every cache of a StoreCache', () => {
    let now = 1000;
    const s = new StoreCache(10, 100, () => now);
    s.registrationByEndpoint.put('ep', REG);
    s.observationByToken.put('tok', OBS);
    now += 31_000;
    expect(s.pruneExpired(10)).toBe(4); // two copies and their two write marks (30 s guard)
    expect(s.registrationByEndpoint.get('ep')).toBeUndefined();
  });
});
