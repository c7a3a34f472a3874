import { attributeWrites } from './device-setup';
import { planObservations, planSetup } from './plan';
import { profile, registration } from '../../test/support/profile-fixtures';

const observed = (strategy: string) =>
  profile({
    observeAttr: {
      observe: ['/3303_1.1/0/5700', '/3/0/9', '/3303/1', '/3_1.2/0/13'],
      telemetry: ['/3303/0/5700', '/3/0/9'],
      observeStrategy: strategy,
    },
  });

describe('planObservations', () => {
  it('SINGLE: one Observe per path', () => {
    const plan = planObservations(observed('SINGLE'), registration());
    expect(plan.strategy).toBe('SINGLE');
    expect(plan.observations).toEqual([
      { kind: 'single', paths: ['/3303/0/5700'] },
      { kind: 'single', paths: ['/3/0/9'] },
      { kind: 'single', paths: ['/3303/1'] },
      { kind: 'single', paths: ['/3/0/13'] },
    ]);
  });

  it('COMPOSITE_ALL: one Observe-Composite with every path', () => {
    expect(planObservations(observed('COMPOSITE_ALL'), registration()).observations).toEqual([
      { kind: 'composite', paths: ['/3303/0/5700', '/3/0/9', '/3303/1', '/3/0/13'] },
    ]);
  });

  it('COMPOSITE_BY_OBJECT: one Observe-Composite per object id', () => {
    expect(planObservations(observed('COMPOSITE_BY_OBJECT'), registration()).observations).toEqual([
      { kind: 'composite', paths: ['/3303/0/5700', '/3303/1'] },
      { kind: 'composite', paths: ['/3/0/9', '/3/0/13'] },
    ]);
  });

  it('falls back to SINGLE for an LwM2M 1.0 client', () => {
    const plan = planObservations(observed('COMPOSITE_ALL'), registration({ lwm2mVersion: '1.0' }));
    expect(plan.requested).toBe('COMPOSITE_ALL');
    expect(plan.strategy).toBe('SINGLE');
    expect(plan.observations).toHaveLength(4);
    expect(plan.observations.every((o) => o.kind === 'single')).toBe(true);
  });

  it('skips paths whose object or instance the device did not announce', () => {
    const p = profile({ observeAttr: { observe: ['/6/0/0', '/3303/2/5700', '/3303/0/5700', '/3/0'] } });
    const plan = planObservations(p, registration());
    expect(plan.observations.map((o) => o.paths[0])).toEqual(['/3303/0/5700', '/3/0']);
    expect(plan.skipped).toEqual([
      { path: '/6/0/0', reason: 'object-not-announced', uses: ['observe'] },
      { path: '/3303/2/5700', reason: 'instance-not-announced', uses: ['observe'] },
    ]);
  });

  it('plans nothing for a profile without observed paths', () => {
    expect(planObservations(profile({}), registration()).observations).toEqual([]);
  });
});

describe('planSetup', () => {
  const p = profile({
    observeAttr: {
      attribute: ['/3/0/0', '/3/0/1'],
      telemetry: ['/3303/0', '/3303/0/5700', '/6/0/0'],
      attributeLwm2m: { '/3303/0/5700': { pmin: 1, pmax: 10 }, '/6/0': { pmax: 60 }, '/3/0/9': { dim: 2 } },
      keyName: { '/3303_1.0/0/5700': 't' },
    },
  });

  it('reads announced attribute and telemetry paths with Read-Composite, leaving out paths below others', () => {
    const plan = planSetup(p, registration());
    expect(plan.reads).toEqual({ composite: true, paths: ['/3/0/0', '/3/0/1', '/3303/0'] });
    expect(plan.attributes).toEqual([{ path: '/3303/0/5700', attributes: { pmin: 1, pmax: 10 } }]);
    expect(plan.skipped).toEqual([
      { path: '/6/0/0', reason: 'object-not-announced', uses: ['read'] },
      { path: '/6/0', reason: 'object-not-announced', uses: ['write-attributes'] },
    ]);
    expect(plan.versionMismatches).toEqual([{ path: '/3303/0/5700', profile: '1.0', device: '1.1' }]);
  });

  it('reads one path at a time for a 1.0 client or a single path', () => {
    expect(planSetup(p, registration({ lwm2mVersion: '1.0' })).reads.composite).toBe(false);
    expect(planSetup(profile({ observeAttr: { telemetry: ['/3/0/9'] } }), registration()).reads).toEqual({
      composite: false,
      paths: ['/3/0/9'],
    });
  });
});

describe('attributeWrites', () => {
  const before = planSetup(
    profile({
      observeAttr: { attributeLwm2m: { '/3/0/9': { pmin: 1, pmax: 10, gt: 50 }, '/3303/0/5700': { pmax: 5 } } },
    }),
    registration(),
  );

  it('writes every path on a first setup', () => {
    expect(attributeWrites(before, undefined)).toHaveLength(2);
  });

  it('writes only changed paths on a re-run, unsetting attributes no longer given', () => {
    const after = planSetup(
      profile({ observeAttr: { attributeLwm2m: { '/3/0/9': { pmin: 2 }, '/3303/0/5700': { pmax: 5 } } } }),
      registration(),
    );
    expect(attributeWrites(after, before)).toEqual([{ path: '/3/0/9', attributes: { pmin: 2, pmax: null, gt: null } }]);
    const none = planSetup(profile({}), registration());
    expect(attributeWrites(none, before)).toEqual([
      { path: '/3/0/9', attributes: { pmin: null, pmax: null, gt: null } },
      { path: '/3303/0/5700', attributes: { pmax: null } },
    ]);
  });
});
