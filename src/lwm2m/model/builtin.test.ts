import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ModelError } from '../../common/errors';
import { builtinModels, createBuiltinRegistry, createModelRegistry } from './builtin';
import builtinJson from './builtin-models.json';
import { loadDdfDirectory } from './ddf-loader';
import { toModelJson } from './model-json';

const REGISTRY_DIR = path.resolve(__dirname, '../../../models/oma-registry');

describe('built-in models', () => {
  const registry = createBuiltinRegistry();

  it('holds the core objects and the IPSO objects', () => {
    for (const id of [0, 1, 2, 3, 4, 5, 6, 7, 9, 19, 3200, 3201, 3202, 3203, 3300, 3303, 3350]) {
      expect(registry.getObject(id)?.id).toBe(id);
    }
    expect(registry.objectIds().every((id) => id <= 19 || (id >= 3200 && id <= 3350))).toBe(true);
    expect(registry.getResource(3, 9)).toMatchObject({ type: 'INTEGER', operations: 'R' });
    expect(registry.getResource(3303, 5700)).toMatchObject({ type: 'FLOAT', operations: 'R' });
  });

  it('holds every version the registry has, and serves 1.0 requests from the same major', () => {
    expect(registry.versions(3).length).toBeGreaterThanOrEqual(1);
    expect(registry.versions(3)).toContain(registry.getObject(3)?.version);
    expect(registry.getObject(3, '1.0')?.version).toMatch(/^1\./);
    expect(registry.getObject(3, '1.1')?.resources.get(0)?.name).toBe('Manufacturer');
  });

  it('has only structural data in its JSON', () => {
    const text = JSON.stringify(builtinJson);
    expect(text).not.toMatch(/"description/i);
    expect(builtinModels().length).toBe(builtinJson.objects.length);
  });

  it('matches the OMA registry files (regenerate with scripts/gen-builtin-models.ts when this fails)', async () => {
    const { models, errors } = await loadDdfDirectory(REGISTRY_DIR);
    expect(errors).toEqual([]);
    const ids = new Set(builtinJson.objects.map((o) => o.id));
    const fromRegistry = models.filter((m) => ids.has(m.id)).map(toModelJson);
    const key = (o: { id: number; version: string }) => `${o.id}@${o.version}`;
    expect(fromRegistry.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
      [...builtinJson.objects].sort((a, b) => key(a).localeCompare(key(b))),
    );
  });
});

describe('createModelRegistry', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'models-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const userDevice = (version: string, extraType: string) => `<LWM2M><Object ObjectType="MODefinition">
    <Name>Device (user)</Name><ObjectID>3</ObjectID><ObjectVersion>${version}</ObjectVersion>
    <Resources><Item ID="9"><Name>Battery</Name><Operations>R</Operations><Type>${extraType}</Type></Item></Resources>
  </Object></LWM2M>`;

  it('returns the built-ins alone without a directory', async () => {
    const { registry, errors } = await createModelRegistry({});
    expect(errors).toEqual([]);
    expect(registry.getObject(3)?.name).toBe('Device');
  });

  it('adds user files on top: same id and version replaces, a new version is added, bad files are reported', async () => {
    const builtinVersion = createBuiltinRegistry().getObject(3)?.version ?? '1.0';
    writeFileSync(path.join(dir, 'device.xml'), userDevice(builtinVersion, 'Float'));
    writeFileSync(path.join(dir, 'device-9.xml'), userDevice('9.0', 'String'));
    writeFileSync(path.join(dir, 'broken.xml'), '<LWM2M><Object>');
    const { registry, errors } = await createModelRegistry({ modelsDir: dir });
    expect(registry.getObject(3, builtinVersion)?.name).toBe('Device (user)');
    expect(registry.getResource(3, 9, builtinVersion)?.type).toBe('FLOAT');
    expect(registry.getResource(3, 9, '9.0')?.type).toBe('STRING');
    expect(registry.versions(3)).toEqual([builtinVersion, '9.0']);
    expect(registry.getObject(3303)?.id).toBe(3303);
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('broken.xml')]);
    // the built-in registry itself is not changed
    expect(createBuiltinRegistry().getObject(3)?.name).toBe('Device');
  });

  it('throws ModelError when the configured directory does not exist', async () => {
    await expect(createModelRegistry({ modelsDir: path.join(dir, 'missing') })).rejects.toBeInstanceOf(ModelError);
  });
});
