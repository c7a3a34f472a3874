import { CodecError } from '../../common/errors';
import { decodeTlv, encodeTlv, TlvKind, type TlvRecord } from './tlv-records';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// Header layout per LwM2M-Core 1.0 §6.4.3 / 1.1 §7.4.3.
describe('TLV records layer', () => {
  it('reads every kind, 8/16-bit identifiers and 0/8/16/24-bit length fields', () => {
    const bytes = hex('C1 09 64  E1 01 2C 07  48 05 08 0102030405060708  D0 0A 0001 FF  F8 01 2C 000001 EE  40 03');
    expect(decodeTlv(bytes, '/x')).toEqual([
      { kind: TlvKind.RESOURCE_VALUE, id: 9, value: hex('64') },
      { kind: TlvKind.RESOURCE_VALUE, id: 300, value: hex('07') },
      { kind: TlvKind.RESOURCE_INSTANCE, id: 5, value: hex('0102030405060708') },
      { kind: TlvKind.RESOURCE_VALUE, id: 10, value: hex('FF') },
      { kind: TlvKind.RESOURCE_VALUE, id: 300, value: hex('EE') },
      { kind: TlvKind.RESOURCE_INSTANCE, id: 3, value: Buffer.alloc(0) },
    ]);
  });

  it('nests object instance → multiple resource → resource instance, and writes the shortest headers', () => {
    const records: TlvRecord[] = [
      {
        kind: TlvKind.OBJECT_INSTANCE,
        id: 1,
        children: [
          {
            kind: TlvKind.MULTIPLE_RESOURCE,
            id: 256,
            children: [{ kind: TlvKind.RESOURCE_INSTANCE, id: 0, value: hex('2A') }],
          },
          { kind: TlvKind.RESOURCE_VALUE, id: 1, value: Buffer.alloc(8) },
        ],
      },
    ];
    const bytes = encodeTlv(records, '/x');
    expect(bytes).toEqual(hex('08 01 11  A3 01 00 41 00 2A  C8 01 08 0000000000000000'));
    expect(decodeTlv(bytes, '/x')).toEqual(records);
  });

  it('names the path and the offset in errors', () => {
    let err: unknown;
    try {
      decodeTlv(hex('C1 09 64 C8 00 14 4F'), '/3/0');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CodecError);
    expect((err as CodecError).path).toBe('/3/0');
    expect((err as CodecError).message).toMatch(/offset 3/);
  });

  it('refuses identifiers that are not 16-bit on encoding', () => {
    expect(() => encodeTlv([{ kind: TlvKind.RESOURCE_VALUE, id: 70000, value: Buffer.alloc(0) }], '/x')).toThrow(
      CodecError,
    );
  });
});
