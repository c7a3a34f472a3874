import { ProfileRegistry, type ProfileChange } from './profile-registry';
import { parseProfile } from './schema';

const def = (doc: Record<string, unknown>) => parseProfile({ name: 'sensor', ...doc }, 'test');
const telemetryOf = (r: ProfileRegistry): readonly string[] | undefined =>
  r.get('sensor')?.definition.observeAttr.telemetry;

function setup(): { registry: ProfileRegistry; changes: ProfileChange[] } {
  const registry = new ProfileRegistry();
  const changes: ProfileChange[] = [];
  registry.onChange((c) => changes.push(c));
  return { registry, changes };
}

describe('ProfileRegistry: newest wins', () => {
  it('prefers the newer updatedAt whichever source gave it and in whatever order', () => {
    const { registry } = setup();
    registry.put(def({ updatedAt: 2000, observeAttr: { telemetry: ['/3/0/9'] } }), 'file:a');
    expect(registry.put(def({ updatedAt: 1000, observeAttr: { telemetry: ['/3/0/1'] } }), 'topic:profiles')).toBe(
      'unchanged',
    );
    expect(telemetryOf(registry)).toEqual(['/3/0/9']);
    expect(registry.put(def({ updatedAt: 3000, observeAttr: { telemetry: ['/3/0/2'] } }), 'topic:profiles')).toBe(
      'changed',
    );
    expect(telemetryOf(registry)).toEqual(['/3/0/2']);
  });

  it('compares version when updatedAt does not tell, else arrival order', () => {
    const { registry } = setup();
    registry.put(def({ version: 7, observeAttr: { telemetry: ['/3/0/7'] } }), 'file:a');
    registry.put(def({ version: 6, observeAttr: { telemetry: ['/3/0/6'] } }), 'file:b');
    expect(telemetryOf(registry)).toEqual(['/3/0/7']);
    registry.put(def({ observeAttr: { telemetry: ['/3/0/0'] } }), 'file:b');
    expect(telemetryOf(registry)).toEqual(['/3/0/0']);
  });

  it('ignores an older update from the same source', () => {
    const { registry, changes } = setup();
    registry.put(def({ updatedAt: 2000, observeAttr: { telemetry: ['/3/0/9'] } }), 'topic:profiles');
    expect(registry.put(def({ updatedAt: 1000, observeAttr: { telemetry: ['/3/0/1'] } }), 'topic:profiles')).toBe(
      'stale',
    );
    expect(telemetryOf(registry)).toEqual(['/3/0/9']);
    expect(changes).toHaveLength(1);
  });

  it('falls back to the other source when one withdraws, and tells listeners of removal', () => {
    const { registry, changes } = setup();
    registry.put(def({ updatedAt: 1, observeAttr: { telemetry: ['/3/0/1'] } }), 'file:a');
    registry.put(def({ updatedAt: 2, observeAttr: { telemetry: ['/3/0/2'] } }), 'topic:profiles');
    registry.delete('sensor', 'topic:profiles');
    expect(telemetryOf(registry)).toEqual(['/3/0/1']);
    registry.delete('sensor', 'file:a');
    expect(registry.get('sensor')).toBeUndefined();
    expect(
      changes.map((c) => [c.profile?.definition.observeAttr.telemetry, c.previous?.definition.observeAttr.telemetry]),
    ).toEqual([
      [['/3/0/1'], undefined],
      [['/3/0/2'], ['/3/0/1']],
      [['/3/0/1'], ['/3/0/2']],
      [undefined, ['/3/0/1']],
    ]);
  });

  it('does not announce a new stamp on the same content', () => {
    const { registry, changes } = setup();
    registry.put(def({ updatedAt: 1, description: 'a', observeAttr: { telemetry: ['/3/0/1'] } }), 'file:a');
    expect(
      registry.put(def({ updatedAt: 2, description: 'b', observeAttr: { telemetry: ['/3/0/1'] } }), 'file:a'),
    ).toBe('unchanged');
    expect(changes).toHaveLength(1);
    expect(registry.get('sensor')?.definition.updatedAt).toBe(2);
  });

  it('validates documents and keeps a failing listener from stopping the others', () => {
    const errors: string[] = [];
    const registry = new ProfileRegistry((_e, ctx) => errors.push(ctx));
    const seen: string[] = [];
    registry.onChange(() => {
      throw new Error('boom');
    });
    registry.onChange((c) => seen.push(c.name));
    expect(() => registry.putDocument({ name: 'x', observeAttr: { observe: ['nope'] } }, 'test')).toThrow(
      /observeAttr\.observe\.0/,
    );
    registry.putDocument({ name: 'x' }, 'test');
    expect(seen).toEqual(['x']);
    expect(errors).toEqual(['profile change listener for "x"']);
    expect(registry.names()).toEqual(['x']);
  });
});
