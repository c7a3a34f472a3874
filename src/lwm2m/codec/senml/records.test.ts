/**
 * SenML record layer: RFC 8428 examples (JSON §5.1, CBOR §6), resolution (§4.6), extensibility
 * (§4.4) and the JSON/CBOR readers' error handling.
 */
import { CodecError } from '../../../common/errors';
import { readSenmlCbor, writeSenmlCbor } from './cbor-records';
import { readSenmlJson, writeSenmlJson } from './json-records';
import type { RawRecord } from './record';
import { resolveRecords } from './resolve';

const json = (s: string): Buffer => Buffer.from(s, 'utf8');
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 8428 §5.1.2, second example (the same pack is dumped in CBOR in §6).
const RFC_5_1_2 = `[
  {"bn":"urn:dev:ow:10e2073a0108006:","bt":1.276020076001e+09,
   "bu":"A","bver":5,
   "n":"voltage","u":"V","v":120.1},
  {"n":"current","t":-5,"v":1.2},
  {"n":"current","t":-4,"v":1.3},
  {"n":"current","t":-3,"v":1.4},
  {"n":"current","t":-2,"v":1.5},
  {"n":"current","t":-1,"v":1.6},
  {"n":"current","v":1.7}
]`;

// RFC 8428 §6: the CBOR dump of the pack above.
const RFC_6_HEX = `
87 a7 21 78 1b 75 72 6e 3a 64 65 76 3a 6f 77 3a 31 30 65 32 30 37 33 61 30 31 30 38 30 30 36 3a
22 fb 41 d3 03 a1 5b 00 10 62 23 61 41 20 05 00 67 76 6f 6c 74 61 67 65 01 61 56 02 fb 40 5e 06
66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06 24 02 fb 3f f3 33 33 33 33 33 33 a3 00 67 63 75
72 72 65 6e 74 06 23 02 fb 3f f4 cc cc cc cc cc cd a3 00 67 63 75 72 72 65 6e 74 06 22 02 fb 3f
f6 66 66 66 66 66 66 a3 00 67 63 75 72 72 65 6e 74 06 21 02 f9 3e 00 a3 00 67 63 75 72 72 65 6e
74 06 20 02 fb 3f f9 99 99 99 99 99 9a a3 00 67 63 75 72 72 65 6e 74 06 00 02 fb 3f fb 33 33 33
33 33 33`;

describe('SenML JSON records (RFC 8428 §5)', () => {
  it('reads the multiple-data-points example of RFC 8428 §5.1.2', () => {
    const records = readSenmlJson(json(RFC_5_1_2), '/');
    expect(records).toHaveLength(7);
    expect(records[0]).toEqual({
      bn: 'urn:dev:ow:10e2073a0108006:',
      bt: 1276020076.001,
      bu: 'A',
      bver: 5,
      n: 'voltage',
      u: 'V',
      kind: 'v',
      value: 120.1,
    });
    expect(records[1]).toEqual({ n: 'current', t: -5, kind: 'v', value: 1.2 });
    expect(records[6]).toEqual({ n: 'current', kind: 'v', value: 1.7 });
  });

  it('reads the multiple-data-types example of RFC 8428 §5.1.5 (vs, vb, vd)', () => {
    const records = readSenmlJson(
      json(`[{"bn":"urn:dev:ow:10e2073a01080063:","n":"temp","u":"Cel","v":23.1},
             {"n":"label","vs":"Machine Room"},{"n":"open","vb":false},{"n":"nfv-reader","vd":"aGkgCg"}]`),
      '/',
    );
    expect(records.map((r) => r.kind)).toEqual(['v', 'vs', 'vb', 'vd']);
    expect(records[3]?.value).toEqual(Buffer.from('hi \n'));
  });

  it('writes records with labels in RFC 8428 order and reads them back', () => {
    const records = readSenmlJson(json(RFC_5_1_2), '/');
    const text = writeSenmlJson(records, '/').toString();
    expect(
      text.startsWith('[{"bn":"urn:dev:ow:10e2073a0108006:","bt":1276020076.001,"bu":"A","bver":5,"n":"voltage"'),
    ).toBe(true);
    expect(text).toContain('{"n":"current","t":-5,"v":1.2}');
    expect(readSenmlJson(Buffer.from(text), '/')).toEqual(records);
  });

  it('keeps integers beyond 2^53 exact as bigints', () => {
    const [r] = readSenmlJson(
      json('[{"n":"/1/0/0","v":9223372036854775807},{"n":"/1/0/0","v":-9007199254740993}]'),
      '/',
    );
    expect(r?.value).toBe(9223372036854775807n);
    expect(readSenmlJson(json('[{"n":"x","v":9007199254740991}]'), '/')[0]?.value).toBe(9007199254740991);
    expect(writeSenmlJson([{ n: '/1/0/0', kind: 'v', value: 2n ** 63n - 1n }], '/').toString()).toBe(
      '[{"n":"/1/0/0","v":9223372036854775807}]',
    );
  });

  it('decodes string escapes', () => {
    const [r] = readSenmlJson(json('[{"n":"a","vs":"q\\"\\\\\\u00e9\\n"}]'), '/');
    expect(r?.value).toBe('q"\\é\n');
    expect(writeSenmlJson([{ n: 'a', kind: 'vs', value: 'q"é' }], '/').toString()).toBe('[{"n":"a","vs":"q\\"é"}]');
  });

  it('ignores unknown labels but rejects must-understand ones (RFC 8428 §4.4)', () => {
    const [r] = readSenmlJson(json('[{"n":"a","foo":{"x":[1,2,{"y":null}]},"v":1}]'), '/');
    expect(r).toEqual({ n: 'a', kind: 'v', value: 1 });
    expect(() => readSenmlJson(json('[{"n":"a","foo_":1,"v":1}]'), '/3/0')).toThrow(/must-understand/);
  });

  it.each([
    ['not JSON', '[{"n":"a",'],
    ['not an array', '{"n":"a","v":1}'],
    ['a record that is not an object', '[1]'],
    ['a wrongly typed label', '[{"n":1}]'],
    ['a string value in "v"', '[{"n":"a","v":"1"}]'],
    ['a non-boolean "vb"', '[{"n":"a","vb":1}]'],
    ['two value fields', '[{"n":"a","v":1,"vs":"x"}]'],
    ['trailing data', '[] x'],
    ['bad base64 in "vd"', '[{"n":"a","vd":"a$b"}]'],
    ['truncated base64 in "vd"', '[{"n":"a","vd":"abcde"}]'],
    ['a bad number', '[{"n":"a","v":01}]'],
    ['an empty payload', ''],
  ])('rejects %s with a CodecError naming the path', (_what, text) => {
    let error: unknown;
    try {
      readSenmlJson(json(text), '/3/0');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).path).toBe('/3/0');
  });

  it('accepts base64 with padding or the standard alphabet in "vd"', () => {
    const [a, b] = readSenmlJson(json('[{"n":"a","vd":"aGkgCg=="},{"n":"b","vd":"+/8="}]'), '/');
    expect(a?.value).toEqual(Buffer.from('hi \n'));
    expect(b?.value).toEqual(Buffer.from([0xfb, 0xff]));
  });
});

describe('SenML CBOR records (RFC 8428 §6)', () => {
  it('decodes the RFC 8428 §6 dump to the records of §5.1.2', () => {
    const expected = readSenmlJson(json(RFC_5_1_2), '/');
    expected[6] = { ...expected[6], t: 0 }; // the dump writes the last record's time explicitly
    expect(readSenmlCbor(hex(RFC_6_HEX), '/')).toEqual(expected);
  });

  it('encodes the records of §5.1.2 to exactly the bytes of RFC 8428 §6 (shortest floats)', () => {
    const records = readSenmlJson(json(RFC_5_1_2), '/');
    records[6] = { ...records[6], t: 0 }; // the dump writes the last record's time explicitly
    expect(writeSenmlCbor(records, '/').toString('hex')).toBe(hex(RFC_6_HEX).toString('hex'));
  });

  it('reads the "vlo" text label and tagged numbers', () => {
    // [{0: "a", "vlo": "66:0"}, {0: "b", 2: 4([-1, 45])}, {0: "c", 2: 1(1367491215)}]
    const records = readSenmlCbor(
      hex('83 a2 00 61 61 63 76 6c 6f 64 36 36 3a 30 a2 00 61 62 02 c4 82 20 18 2d a2 00 61 63 02 c1 1a 51 82 42 8f'),
      '/',
    );
    expect(records[0]).toEqual({ n: 'a', kind: 'vlo', value: '66:0' });
    expect(records[1]).toEqual({ n: 'b', kind: 'v', value: 4.5 });
    expect(records[2]).toEqual({ n: 'c', kind: 'time', value: new Date(1367491215000) });
  });

  it.each([
    ['bad CBOR', '9f'],
    ['trailing bytes', '80 00'],
    ['a map instead of an array', 'a1 00 61 61'],
    ['a record that is not a map', '81 01'],
    ['an unknown integer label', '81 a1 09 01'],
    ['a text "vs" given as bytes', '81 a1 03 41 00'],
    ['"vd" given as text', '81 a1 08 61 61'],
    ['a must-understand text label', '81 a1 62 78 5f 01'],
    ['two value fields', '81 a2 02 01 03 61 61'],
  ])('rejects %s with a CodecError naming the path', (_what, bytes) => {
    let error: unknown;
    try {
      readSenmlCbor(hex(bytes), '/3/0');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).path).toBe('/3/0');
  });
});

describe('resolved records (RFC 8428 §4.6)', () => {
  const NOW = 1_700_000_000_000;

  it('resolves the RFC 8428 §5.1.3 example as listed in §5.1.4', () => {
    const pack = `[{"bn":"urn:dev:ow:10e2073a01080063","bt":1.320067464e+09,"bu":"%RH","v":20},
      {"u":"lon","v":24.30621},{"u":"lat","v":60.07965},{"t":60,"v":20.3},
      {"u":"%EL","t":150,"v":98},{"t":180,"v":21.2}]`;
    const resolved = readSenmlJson(json(pack), '/').map((r) => ({ t: r.t, v: r.value }));
    expect(resolved).toHaveLength(6);
    // Names are not LwM2M paths here, so resolve only the time rule by hand through a path-named pack.
    const lwm2m = pack.replace('urn:dev:ow:10e2073a01080063', '/3303/0/5700');
    const times = resolveRecords(readSenmlJson(json(lwm2m), '/'), '/', { now: NOW }).map((r) => r.time);
    expect(times).toEqual([1320067464000, 1320067464000, 1320067464000, 1320067524000, 1320067614000, 1320067644000]);
  });

  it('concatenates base name and name, carrying base fields forward (RFC 8428 §5.1.6)', () => {
    const raw: RawRecord[] = [
      { bn: '/3/0/', bt: 1320078429, n: '9', kind: 'v', value: 25 },
      { n: '10', kind: 'v', value: 30 },
      { bn: '/1/0/', n: '1', kind: 'v', value: 12 },
      { n: '0', kind: 'v', value: 67 },
    ];
    const resolved = resolveRecords(raw, '/', { now: NOW });
    expect(resolved.map((r) => r.name)).toEqual(['/3/0/9', '/3/0/10', '/1/0/1', '/1/0/0']);
    expect(resolved.map((r) => r.ids)).toEqual([
      [3, 0, 9],
      [3, 0, 10],
      [1, 0, 1],
      [1, 0, 0],
    ]);
    expect(resolved.every((r) => r.time === 1320078429000)).toBe(true);
  });

  it('treats times below 2^28 as relative to now (RFC 8428 §4.5.3)', () => {
    const raw: RawRecord[] = [
      { n: '/3303/0/5700', t: -5, kind: 'v', value: 1 },
      { n: '/3303/0/5700', kind: 'v', value: 2 },
    ];
    const [a, b] = resolveRecords(raw, '/', { now: NOW });
    expect(a?.time).toBe(NOW - 5000);
    expect(b?.time).toBeUndefined();
    const [c] = resolveRecords([{ n: '/3303/0/5700', bt: 2 ** 28, t: 0.5, kind: 'v', value: 1 }], '/', { now: NOW });
    expect(c?.time).toBe(2 ** 28 * 1000 + 500);
  });

  it('adds the base value to numeric values (RFC 8428 §4.5.4), exactly for large integers', () => {
    const raw: RawRecord[] = [
      { bn: '/3/0/', bv: 9007199254740990, n: '10', kind: 'v', value: 5 },
      { n: '9', kind: 'v', value: 0.5 },
      { n: '14', kind: 'vs', value: 'x' },
    ];
    const [a, b, c] = resolveRecords(raw, '/');
    expect(a?.value).toBe(9007199254740995n);
    expect(b?.value).toBe(9007199254740990 + 0.5); // the float sum, as RFC 8428 §4.5.4 adds them
    expect(c).toMatchObject({ kind: 'vs', value: 'x' });
  });

  it('canonicalises names and rejects names that are not LwM2M paths', () => {
    expect(resolveRecords([{ n: '/03/00/1' }], '/')[0]?.name).toBe('/3/0/1');
    for (const n of ['3/0/1', '/3//1', '/3/0/1/2/3', '/3/a', '/3/0/', '/70000', 'urn:dev:x']) {
      expect(() => resolveRecords([{ n }], '/')).toThrow(CodecError);
    }
    expect(() => resolveRecords([{}], '/3/0')).toThrow(/no name/);
  });

  it('rejects SenML versions above 10 (RFC 8428 §4.4)', () => {
    expect(() => resolveRecords([{ bver: 11, n: '/3/0/1' }], '/3/0')).toThrow(/version 11/);
    expect(resolveRecords([{ bver: 10, n: '/3/0/1' }], '/')).toHaveLength(1);
  });
});
