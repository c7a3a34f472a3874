/**
 * Every file of the OMA object registry (models/oma-registry, a copy kept in the repository) loads.
 * A missing directory fails the test: it must never pass silently.
 */
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../../common/errors';
import { loadDdfDirectory, type DdfDirectoryResult } from './ddf-loader';

const REGISTRY_DIR = path.resolve(__dirname, '../../../models/oma-registry');

/** Files of the registry that are not object definitions: the reusable-resource list, the index, the units. */
const NOT_OBJECT_FILES = ['Common.xml', 'DDF.xml', 'LWM2M_senml_units.xml'];
/** Files of the repository's copy that are not the registry's: what it is and its licence. */
const NOT_REGISTRY_FILES = ['LICENSE', 'README.md'];

describe('OMA registry DDF files', () => {
  let result: DdfDirectoryResult;
  let onDisk: string[];
  let elapsedMs: number;

  beforeAll(async () => {
    if (!existsSync(REGISTRY_DIR)) {
      throw new ModelError(
        `the OMA registry directory is missing: expected ${REGISTRY_DIR} (the repository's copy of the OMA registry)`,
      );
    }
    onDisk = readdirSync(REGISTRY_DIR);
    const started = process.hrtime.bigint();
    result = await loadDdfDirectory(REGISTRY_DIR);
    elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  });

  it('finds the registry directory with its files', () => {
    expect(existsSync(REGISTRY_DIR)).toBe(true);
    expect(onDisk.length).toBeGreaterThanOrEqual(332);
  });

  it('loads every XML file without an error', () => {
    expect(result.errors.map((e) => e.message)).toEqual([]);
    const xmlOnDisk = onDisk.filter((f) => /\.xml$/i.test(f)).sort();
    const accounted = [...result.loaded, ...result.skipped.map((s) => s.file)].map((f) => path.basename(f)).sort();
    expect(accounted).toEqual(xmlOnDisk);
    // Besides the definitions and schemas, only the copy's README and LICENSE.
    expect(onDisk.length).toBe(
      xmlOnDisk.length + onDisk.filter((f) => /\.xsd$/i.test(f)).length + NOT_REGISTRY_FILES.length,
    );
  });

  it('gets at least one model from every object definition file, and skips only the non-object files', () => {
    expect(result.skipped.map((s) => path.basename(s.file)).sort()).toEqual(NOT_OBJECT_FILES);
    const objectFiles = onDisk.filter((f) => /\.xml$/i.test(f) && !NOT_OBJECT_FILES.includes(f));
    expect(result.loaded).toHaveLength(objectFiles.length);
    expect(result.models.length).toBeGreaterThanOrEqual(objectFiles.length);
    const idsFromNames = objectFiles.map((f) => Number(path.basename(f, '.xml'))).sort((a, b) => a - b);
    expect([...new Set(result.models.map((m) => m.id))].sort((a, b) => a - b)).toEqual(idsFromNames);
    expect(elapsedMs).toBeLessThan(10_000);
  });

  it('reads types, operations and versions correctly (spot checks)', () => {
    const byId = (id: number) => result.models.find((m) => m.id === id);
    const device = byId(3);
    expect(device?.resources.get(9)).toMatchObject({
      name: 'Battery Level',
      type: 'INTEGER',
      operations: 'R',
      multiple: false,
    });
    expect(device?.resources.get(4)).toMatchObject({ name: 'Reboot', type: 'NONE', operations: 'E' });
    expect(device?.multiple).toBe(false);
    expect(device?.mandatory).toBe(true);
    expect(byId(3303)?.resources.get(5700)).toMatchObject({ type: 'FLOAT', operations: 'R', mandatory: true });
    expect(byId(3303)?.resources.get(5701)).toMatchObject({ type: 'STRING' });

    const versioned = result.models.filter((m) => m.version === '1.1' || m.version === '1.2');
    expect(versioned.length).toBeGreaterThan(0);
    expect(device?.version).toMatch(/^1\.[12]$/);
    expect(device?.lwm2mVersion).toBe('1.1');
    expect(byId(6)?.version).toBe('1.0');
    expect(byId(1)?.resources.get(1)).toMatchObject({ name: 'Lifetime', type: 'INTEGER', operations: 'RW' });
    expect(byId(1)?.resources.get(13)).toMatchObject({ type: 'UNSIGNED_INTEGER' }); // "Unsigned Integer"
    expect(byId(1)?.resources.get(8)).toMatchObject({ type: 'NONE', operations: 'E' });
  });

  it('keeps structural data only (no descriptions)', () => {
    const objectKeys = new Set(['id', 'name', 'version', 'lwm2mVersion', 'multiple', 'mandatory', 'urn', 'resources']);
    const resourceKeys = new Set([
      'id',
      'name',
      'operations',
      'multiple',
      'mandatory',
      'type',
      'rangeEnumeration',
      'units',
    ]);
    for (const m of result.models) {
      expect(Object.keys(m).filter((k) => !objectKeys.has(k))).toEqual([]);
      for (const r of m.resources.values()) expect(Object.keys(r).filter((k) => !resourceKeys.has(k))).toEqual([]);
    }
  });
});
