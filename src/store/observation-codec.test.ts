import type { Observation } from '../server/observation/observation-store';
import { StoreError } from '../common/store-errors';
import { decodeObservation, encodeObservation } from './observation-codec';

const single: Observation = {
  token: '0a1b2c3d4e5f6071',
  registrationId: 'reg-1',
  endpoint: 'dev|1',
  kind: 'single',
  paths: ['/3303/0/5700'],
  contentFormat: 11542,
  createdAt: 1_700_000_000_001,
};
const composite: Observation = {
  token: 'ff',
  registrationId: 'reg-2',
  endpoint: 'dev',
  kind: 'composite',
  paths: ['/3/0/9', '/3303/0'],
  createdAt: 5,
};

describe('observation codec', () => {
  it.each([single, composite])('round-trips %p', (obs) => {
    expect(decodeObservation(encodeObservation(obs))).toEqual(obs);
  });

  it('is compact JSON with a version and the registration id where the scripts look for it', () => {
    const json = JSON.parse(encodeObservation(single)) as Record<string, unknown>;
    expect(json).toMatchObject({ v: 1, r: 'reg-1', k: 's' });
    expect(encodeObservation(single).length).toBeLessThan(130);
  });

  it('carries fields the Observation type grows later, unchanged', () => {
    const grown = { ...single, attributes: { pmin: 5 }, owner: 'x' } as Observation;
    expect(decodeObservation(encodeObservation(grown))).toEqual(grown);
  });

  it('refuses newer formats and corrupt records', () => {
    const newer = JSON.stringify({ ...JSON.parse(encodeObservation(single)), v: 2 });
    expect(() => decodeObservation(newer)).toThrow(/newer/);
    expect(() => decodeObservation('{')).toThrow(StoreError);
    expect(() => decodeObservation('{"v":1,"t":"a"}')).toThrow(StoreError);
  });
});
