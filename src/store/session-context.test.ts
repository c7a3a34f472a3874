/** StoreCache.pruneExpired: idle devices' copies and write marks are released without waiting for a set(). */
import type { Observation } from '../server/observation/observation-store';
import type { Registration } from '../server/registration/registration';
import { StoreCache } from './session-context';

const REG: Registration = {
  id: 'r1',
  endpoint: 'ep',
  address: '127.0.0.1',
  port: 5683,
  lifetime: 60,
  lwm2mVersion: '1.1',
  binding: 'U',
  queueMode: false,
  rootPath: '/',
  objects: [],
  objectLinks: '',
  registeredAt: 0,
  lastUpdate: 0,
  expiresAt: 60_000,
};
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
