import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ModelError } from '../../common/errors';
import { loadDdfDirectory, parseDdf } from './ddf-loader';

function item(id: string | null, fields: Record<string, string | null>): string {
  const body = Object.entries(fields)
    .map(([k, v]) => (v === null ? '' : `<${k}>${v}</${k}>`))
    .join('\n');
  return `<Item${id === null ? '' : ` ID="${id}"`}>${body}<Description>prose</Description></Item>`;
}

function ddf(objectFields: string, items: string[]): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<LWM2M xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://openmobilealliance.org/tech/profiles/LWM2M.xsd">
  <Object ObjectType="MODefinition">
    ${objectFields}
    <Resources>${items.join('\n')}</Resources>
    <Description2></Description2>
  </Object>
</LWM2M>`;
}

const HEADER = `<Name>Test</Name><Description1>prose</Description1><ObjectID>42000</ObjectID>
  <ObjectURN>urn:oma:lwm2m:x:42000</ObjectURN><MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory>`;
const VALUE = {
  Name: 'Value',
  Operations: 'R',
  MultipleInstances: 'Single',
  Mandatory: 'Mandatory',
  Type: 'Float',
  RangeEnumeration: '',
  Units: 'Cel',
};

function expectModelError(fn: () => unknown, ...parts: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ModelError);
  const message = caught instanceof ModelError ? caught.message : '';
  for (const p of parts) expect(message).toContain(p);
  expect(caught instanceof ModelError && caught.code).toBe('LWM2M_MODEL');
}

describe('parseDdf', () => {
  it('reads a minimal 1.0 definition: defaults for absent versions, no descriptions', () => {
    const [m] = parseDdf(ddf(HEADER, [item('5700', VALUE)]), 'x.xml');
    expect(m).toEqual({
      id: 42000,
      name: 'Test',
      version: '1.0',
      lwm2mVersion: '1.0',
      multiple: true,
      mandatory: false,
      urn: 'urn:oma:lwm2m:x:42000',
      resources: new Map([
        [
          5700,
          { id: 5700, name: 'Value', operations: 'R', multiple: false, mandatory: true, type: 'FLOAT', units: 'Cel' },
        ],
      ]),
    });
  });

  it('tolerates a BOM, whitespace, odd casing, CDATA and missing optional elements', () => {
    const xml = `\uFEFF\n  <?xml version="1.0"?>\n<LWM2M><Object ObjectType="MODefinition">
      <Name> Odd </Name><ObjectID> 7 </ObjectID><ObjectVersion> 1.2 </ObjectVersion><LWM2MVersion>1.1</LWM2MVersion>
      <MultipleInstances>single</MultipleInstances>
      <Resources>
        <Item ID=" 1 "><Name>A</Name><Operations> rw </Operations><Type>unsigned integer</Type><Description><![CDATA[a < b]]></Description></Item>
        <Item ID="2"><Name>B</Name><Operations>E</Operations><Type/><RangeEnumeration/><Units/></Item>
        <Item ID="3"><Name>C</Name><Operations>R</Operations><Type>OBJLNK</Type></Item>
        <Item ID="4"><Name>D</Name><Operations></Operations><Type>corelnk</Type></Item>
      </Resources></Object></LWM2M>`;
    const [m] = parseDdf(xml, 'odd.xml');
    expect(m?.version).toBe('1.2');
    expect(m?.lwm2mVersion).toBe('1.1');
    expect(m?.multiple).toBe(false);
    expect(m?.mandatory).toBe(false);
    expect(m?.name).toBe('Odd');
    expect(m?.resources.get(1)).toEqual({
      id: 1,
      name: 'A',
      operations: 'RW',
      multiple: false,
      mandatory: false,
      type: 'UNSIGNED_INTEGER',
    });
    expect(m?.resources.get(2)).toMatchObject({ operations: 'E', type: 'NONE' });
    expect(m?.resources.get(2)).not.toHaveProperty('units');
    expect(m?.resources.get(3)?.type).toBe('OBJLNK');
    expect(m?.resources.get(4)).toMatchObject({ operations: 'NONE', type: 'CORELNK' });
  });

  it('reads several Object elements in one file and skips non-definition objects', () => {
    const two = `<LWM2M>
      <Object ObjectType="MODefinition"><Name>A</Name><ObjectID>1000</ObjectID><ObjectVersion>1.0</ObjectVersion><Resources/></Object>
      <Object ObjectType="MODefinition"><Name>A</Name><ObjectID>1000</ObjectID><ObjectVersion>1.1</ObjectVersion><Resources/></Object>
      <Object ObjectType="CommonResources"><Resources/></Object>
    </LWM2M>`;
    expect(parseDdf(two, 'two.xml').map((m) => `${m.id}@${m.version}`)).toEqual(['1000@1.0', '1000@1.1']);
  });

  it('rejects malformed XML, naming the file and the position', () => {
    expectModelError(
      () => parseDdf('<LWM2M><Object><ObjectID>3</Object></LWM2M>', 'broken.xml'),
      'broken.xml',
      'malformed XML',
      'line 1',
    );
    expectModelError(() => parseDdf('', 'empty.xml'), 'empty.xml');
    expectModelError(() => parseDdf('not xml at all', 'text.xml'), 'text.xml');
  });

  it('rejects a missing or invalid ObjectID', () => {
    expectModelError(
      () => parseDdf(ddf('<Name>NoId</Name>', [item('1', VALUE)]), 'noid.xml'),
      'noid.xml',
      'NoId',
      '<ObjectID>',
    );
    expectModelError(() => parseDdf(ddf('<Name>Bad</Name><ObjectID>x1</ObjectID>', []), 'bad.xml'), 'bad.xml', '"x1"');
    expectModelError(() => parseDdf(ddf('<ObjectID>70000</ObjectID>', []), 'big.xml'), 'big.xml', '70000');
    expectModelError(
      () => parseDdf(ddf('<ObjectID>1</ObjectID><ObjectID>2</ObjectID>', []), 'dup.xml'),
      'dup.xml',
      '2 <ObjectID>',
    );
  });

  it('rejects a missing Item ID, an unknown Type or Operations, naming the file, object and item', () => {
    expectModelError(
      () => parseDdf(ddf(HEADER, [item(null, VALUE)]), 'noitem.xml'),
      'noitem.xml',
      'object 42000',
      '"Value"',
      'no ID',
    );
    expectModelError(
      () => parseDdf(ddf(HEADER, [item('5', { ...VALUE, Type: 'Double' })]), 'type.xml'),
      'type.xml',
      'object 42000',
      'item 5',
      '"Double"',
    );
    expectModelError(
      () => parseDdf(ddf(HEADER, [item('5', { ...VALUE, Operations: 'RWX' })]), 'ops.xml'),
      'ops.xml',
      'item 5',
      '"RWX"',
    );
    expectModelError(
      () => parseDdf(ddf(HEADER, [item('5', VALUE), item('5', VALUE)]), 'twice.xml'),
      'twice.xml',
      'item 5',
      'twice',
    );
    expectModelError(
      () => parseDdf(ddf(HEADER, [item('5', { ...VALUE, Mandatory: 'Sometimes' })]), 'm.xml'),
      'm.xml',
      '"Sometimes"',
    );
    expectModelError(() => parseDdf(ddf(`${HEADER}<ObjectVersion>v2</ObjectVersion>`, []), 'v.xml'), 'v.xml', '"v2"');
  });

  it('rejects documents that hold no object definition', () => {
    expectModelError(
      () => parseDdf('<DDFList><Item><ObjectID>0</ObjectID></Item></DDFList>', 'DDF.xml'),
      'DDF.xml',
      'DDFList',
    );
  });
});

describe('loadDdfDirectory', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'ddf-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('collects per-file errors without aborting, skips non-definition files and ignores other extensions', async () => {
    writeFileSync(path.join(dir, 'good.xml'), ddf(HEADER, [item('5700', VALUE)]));
    writeFileSync(path.join(dir, 'bad.xml'), ddf(HEADER, [item('1', { ...VALUE, Type: 'Decimal' })]));
    writeFileSync(path.join(dir, 'index.xml'), '<DDFList/>');
    writeFileSync(path.join(dir, 'notes.txt'), 'not a model');
    const r = await loadDdfDirectory(dir);
    expect(r.models.map((m) => m.id)).toEqual([42000]);
    expect(r.loaded).toEqual([path.join(dir, 'good.xml')]);
    expect(r.skipped).toEqual([{ file: path.join(dir, 'index.xml'), reason: expect.stringContaining('DDFList') }]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toBeInstanceOf(ModelError);
    expect(r.errors[0]?.message).toContain('bad.xml');
    expect(r.errors[0]?.message).toContain('"Decimal"');
  });

  it('throws ModelError for a directory that cannot be read', async () => {
    await expect(loadDdfDirectory(path.join(dir, 'absent'))).rejects.toBeInstanceOf(ModelError);
  });
});
