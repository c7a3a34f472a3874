import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProfileError } from './errors';
import { parseProfile, readStrategyOf } from './schema';

function issuesOf(doc: unknown): Array<{ field: string; message: string }> {
  try {
    parseProfile(doc, 'test');
  } catch (err) {
    if (err instanceof ProfileError) return [...err.issues];
    throw err;
  }
  throw new Error('expected a ProfileError');
}

describe('parseProfile', () => {
  it('fills defaults for a minimal profile', () => {
    const p = parseProfile({ name: 'minimal' }, 'test');
    expect(p.observeAttr).toEqual({ keyName: {}, observe: [], attribute: [], telemetry: [], attributeLwm2m: {} });
    expect(p.unmappedPaths).toBe('path');
    expect(p.observeStrategy).toBeUndefined();
  });

  it('accepts the ThingsBoard shape with versioned paths and ObjectAttributes extras', () => {
    const p = parseProfile(
      {
        name: 'tb',
        updatedAt: '2024-05-01T12:00:00Z',
        observeAttr: {
          keyName: { '/3_1.2/0/9': 'batteryLevel', '/3303_1.1/0/5700': 'temperature' },
          observe: ['/3303_1.1/0/5700'],
          attribute: ['/3_1.2/0/9'],
          telemetry: ['/3303_1.1/0/5700'],
          attributeLwm2m: { '/3303_1.1/0/5700': { pmin: 1, pmax: 30, ver: '1.1', dim: 2 } },
          observeStrategy: 'COMPOSITE_BY_OBJECT',
          initAttrTelAsObsStrategy: false,
        },
      },
      'test',
    );
    expect(p.updatedAt).toBe(Date.parse('2024-05-01T12:00:00Z'));
    expect(p.observeAttr.attributeLwm2m['/3303_1.1/0/5700']).toEqual({ pmin: 1, pmax: 30 });
    expect(p.observeAttr.observeStrategy).toBe('COMPOSITE_BY_OBJECT');
  });

  it('unwraps a ThingsBoard device profile export', () => {
    const p = parseProfile(
      {
        name: 'exported',
        type: 'DEFAULT',
        description: null,
        version: 4,
        profileData: {
          transportConfiguration: {
            type: 'LWM2M',
            observeAttr: { telemetry: ['/3/0/9'] },
            bootstrap: [],
            clientLwM2mSettings: { clientOnlyObserveAfterConnect: 1 },
          },
        },
      },
      'test',
    );
    expect(p.name).toBe('exported');
    expect(p.version).toBe(4);
    expect(p.observeAttr.telemetry).toEqual(['/3/0/9']);
    expect(p.clientLwM2mSettings).toEqual({ clientOnlyObserveAfterConnect: 1 });
  });

  it('names the field of a bad path, a bad strategy and an unknown field', () => {
    const issues = issuesOf({
      name: 'bad',
      observeAttr: { telemetry: ['/3/0/9', '/3/x/1'], observeStrategy: 'SOMETIMES', telemtry: [] },
    });
    const fields = issues.map((i) => i.field);
    expect(fields).toContain('observeAttr.telemetry.1');
    expect(fields).toContain('observeAttr.observeStrategy');
    expect(fields).toContain('observeAttr');
    expect(issues.find((i) => i.field === 'observeAttr')?.message).toMatch(/telemtry/);
  });

  it('takes a read strategy, explicit or from initAttrTelAsObsStrategy, and names a contradiction', () => {
    expect(readStrategyOf(parseProfile({ name: 'a' }, 'test'))).toBe('COMPOSITE');
    expect(readStrategyOf(parseProfile({ name: 'a', readStrategy: 'SINGLE' }, 'test'))).toBe('SINGLE');
    const following = (observeStrategy: string): string =>
      readStrategyOf(
        parseProfile({ name: 'a', observeAttr: { observeStrategy, initAttrTelAsObsStrategy: true } }, 'test'),
      );
    expect(following('SINGLE')).toBe('SINGLE');
    expect(following('COMPOSITE_ALL')).toBe('COMPOSITE');
    expect(
      issuesOf({
        name: 'a',
        readStrategy: 'COMPOSITE',
        observeAttr: { observeStrategy: 'SINGLE', initAttrTelAsObsStrategy: true },
      }),
    ).toEqual([
      {
        field: 'readStrategy',
        message: 'differs from the SINGLE that observeAttr.initAttrTelAsObsStrategy gives with this observeStrategy',
      },
    ]);
    expect(issuesOf({ name: 'a', readStrategy: 'SOMETIMES' }).map((i) => i.field)).toEqual(['readStrategy']);
  });

  it('names the path of bad notification attributes, with the spec rule', () => {
    const issues = issuesOf({
      name: 'bad',
      observeAttr: { attributeLwm2m: { '/3303/0/5700': { pmin: 60, pmax: 10 }, '/3/0/9': { pMin: 1 } } },
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        { field: 'observeAttr.attributeLwm2m./3303/0/5700', message: 'pmax must not be less than pmin' },
        expect.objectContaining({ field: 'observeAttr.attributeLwm2m./3/0/9', message: expect.stringMatching(/pMin/) }),
      ]),
    );
  });

  it('rejects a key used for two paths, and a path with two keys', () => {
    const issues = issuesOf({
      name: 'dup',
      observeAttr: { keyName: { '/3/0/9': 'battery', '/3/0/20': 'battery', '/3_1.2/0/9': 'level' } },
    });
    expect(issues.map((i) => i.field)).toEqual(['observeAttr.keyName./3/0/20', 'observeAttr.keyName./3_1.2/0/9']);
  });

  it('rejects the root path, an empty key and a missing name', () => {
    const fields = issuesOf({ observeAttr: { observe: ['/'], keyName: { '/3/0/0': ' ' } } }).map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'observeAttr.observe.0', 'observeAttr.keyName./3/0/0']));
  });

  it('prefixes fields of a ThingsBoard export with their place in the export', () => {
    const fields = issuesOf({
      name: 'x',
      profileData: { transportConfiguration: { observeAttr: { observe: [42] } } },
    }).map((i) => i.field);
    expect(fields).toEqual(['profileData.transportConfiguration.observeAttr.observe.0']);
  });

  it('rejects two different strategies', () => {
    expect(
      issuesOf({ name: 'x', observeStrategy: 'SINGLE', observeAttr: { observeStrategy: 'COMPOSITE_ALL' } }).map(
        (i) => i.field,
      ),
    ).toEqual(['observeStrategy']);
  });

  it('says where the profile came from and that it is invalid', () => {
    expect(() => parseProfile('nope', 'file:/x.json')).toThrow(/from file:\/x\.json is invalid/);
    try {
      parseProfile({ name: 'n', updatedAt: 'yesterday' }, 'file:/x.json');
    } catch (err) {
      expect(err).toBeInstanceOf(ProfileError);
      expect((err as ProfileError).code).toBe('PROFILE_INVALID');
      expect((err as ProfileError).message).toMatch(/updatedAt: /);
    }
  });
});

describe('the example profiles', () => {
  it('are valid', () => {
    const dir = join(__dirname, '..', '..', 'examples', 'profiles');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files)
      expect(parseProfile(JSON.parse(readFileSync(join(dir, f), 'utf8')), f).name).toBe(f.replace(/\.json$/, ''));
  });
});
