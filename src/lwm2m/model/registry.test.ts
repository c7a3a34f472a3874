import { ObjectModelRegistry } from './registry';
import type { ObjectModel, ResourceModel } from './types';

function model(id: number, version: string, resourceIds: number[] = [0], name = `obj${id}`): ObjectModel {
  const resources = new Map<number, ResourceModel>(
    resourceIds.map((r) => [
      r,
      { id: r, name: `r${r}@${version}`, operations: 'R', multiple: false, mandatory: false, type: 'INTEGER' },
    ]),
  );
  return { id, name, version, lwm2mVersion: '1.0', multiple: false, mandatory: false, resources };
}

describe('ObjectModelRegistry', () => {
  const registry = new ObjectModelRegistry([
    model(3, '1.0', [0]),
    model(3, '1.1', [0, 1]),
    model(3, '1.2', [0, 1, 2]),
    model(3, '2.0', [0, 7]),
  ]);
  registry.add([model(4, '1.3'), model(5, '2.1')]);

  it('returns the exact version when known', () => {
    expect(registry.getObject(3, '1.0')?.version).toBe('1.0');
    expect(registry.getObject(3, '1.1')?.version).toBe('1.1');
    expect(registry.getObject(3, '2.0')?.version).toBe('2.0');
  });

  it('falls back to the newest version of the same major, then to the newest', () => {
    expect(registry.getObject(3, '1.7')?.version).toBe('1.2');
    expect(registry.getObject(4, '1.0')?.version).toBe('1.3');
    expect(registry.getObject(3, '2.5')?.version).toBe('2.0');
    expect(registry.getObject(3, '3.0')?.version).toBe('2.0');
    expect(registry.getObject(5, '1.0')?.version).toBe('2.1');
  });

  it('returns the newest when no version is asked, or when the version is not major.minor', () => {
    expect(registry.getObject(3)?.version).toBe('2.0');
    expect(registry.getObject(3, 'garbage')?.version).toBe('2.0');
    // canonical equivalents resolve to the exact version
    expect(registry.getObject(3, '01.1')?.version).toBe('1.1');
  });

  it('answers the same model on repeated (memoised) lookups', () => {
    const first = registry.getObject(3, '1.9');
    expect(registry.getObject(3, '1.9')).toBe(first);
    for (let i = 0; i < 500; i++) expect(registry.getObject(3, `1.${100 + i}`)?.version).toBe('1.2');
  });

  it('returns undefined for unknown objects and resources', () => {
    expect(registry.getObject(99)).toBeUndefined();
    expect(registry.getObject(99, '1.0')).toBeUndefined();
    expect(registry.getResource(99, 0)).toBeUndefined();
    expect(registry.getResource(3, 42, '1.0')).toBeUndefined();
  });

  it('resolves resources through the same version selection', () => {
    expect(registry.getResource(3, 1, '1.0')).toBeUndefined();
    expect(registry.getResource(3, 1, '1.1')?.name).toBe('r1@1.1');
    expect(registry.getResource(3, 2, '1.5')?.name).toBe('r2@1.2');
    expect(registry.getResource(3, 7)?.name).toBe('r7@2.0');
  });

  it('lists ids and versions in order', () => {
    expect(registry.objectIds()).toEqual([3, 4, 5]);
    expect(registry.versions(3)).toEqual(['1.0', '1.1', '1.2', '2.0']);
    expect(registry.versions(42)).toEqual([]);
  });

  it('lets a later model replace the same id and version, and re-resolves fallbacks', () => {
    const r = new ObjectModelRegistry([model(10, '1.0', [0], 'old')]);
    expect(r.getObject(10, '1.4')?.name).toBe('old');
    r.add([model(10, '1.0', [0], 'new')]);
    expect(r.getObject(10, '1.0')?.name).toBe('new');
    expect(r.versions(10)).toEqual(['1.0']);
    r.add([model(10, '1.3')]);
    expect(r.getObject(10, '1.4')?.version).toBe('1.3');
    expect(r.getObject(10)?.version).toBe('1.3');
  });
});
