/**
 * Option value helpers: uint (RFC 7252 §3.2), Block1/Block2 (RFC 7959 §2.2), accessors and list edits.
 */
import { CoapFormatError } from '../common/errors';
import { EMPTY_BUFFER, MessageType, Opt, type CoapMessage, type CoapOption } from './message';
import {
  blockSize,
  contentFormat,
  decodeBlock,
  decodeUint,
  encodeBlock,
  encodeUint,
  getBlock,
  getOption,
  getOptions,
  getUintOption,
  observeValue,
  pathOptions,
  szxFor,
  uintOption,
  uriPath,
  uriQuery,
  withOptions,
  withoutOptions,
} from './options';

const opt = (number: number, value: string | Buffer): CoapOption => ({
  number,
  value: typeof value === 'string' ? Buffer.from(value) : value,
});
const withOpts = (options: CoapOption[]): CoapMessage => ({
  type: MessageType.CON,
  code: 1,
  messageId: 1,
  token: EMPTY_BUFFER,
  options,
  payload: EMPTY_BUFFER,
});

describe('uint option values (RFC 7252 §3.2)', () => {
  it.each([
    [0, ''],
    [1, '01'],
    [255, 'ff'],
    [256, '0100'],
    [65535, 'ffff'],
    [65536, '010000'],
    [0xffffff, 'ffffff'],
    [0x1000000, '01000000'],
    [0xffffffff, 'ffffffff'],
  ])('%i is encoded in the shortest form %s and decodes back', (n, h) => {
    expect(encodeUint(n).toString('hex')).toBe(h);
    expect(decodeUint(Buffer.from(h, 'hex'))).toBe(n);
  });

  it('accepts leading zero bytes when decoding (a sender MAY send them)', () => {
    expect(decodeUint(Buffer.from('0001', 'hex'))).toBe(1);
  });

  it('rejects a uint longer than 4 bytes', () => {
    expect(() => decodeUint(Buffer.alloc(5))).toThrow(CoapFormatError);
  });
});

describe('block option values (RFC 7959 §2.2)', () => {
  it('SZX 0..6 give 16..1024 bytes', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(blockSize)).toEqual([16, 32, 64, 128, 256, 512, 1024]);
  });

  it('szxFor picks the largest size that fits', () => {
    expect(szxFor(1024)).toBe(6);
    expect(szxFor(1023)).toBe(5);
    expect(szxFor(4096)).toBe(6);
    expect(szxFor(16)).toBe(0);
    expect(szxFor(100)).toBe(2);
  });

  it.each([
    [{ num: 0, more: false, szx: 0 }, ''],
    [{ num: 0, more: true, szx: 6 }, '0e'],
    [{ num: 1, more: true, szx: 6 }, '1e'],
    [{ num: 15, more: false, szx: 2 }, 'f2'],
    [{ num: 16, more: true, szx: 2 }, '010a'],
    [{ num: 4095, more: false, szx: 6 }, 'fff6'],
    [{ num: 4096, more: true, szx: 5 }, '01000d'],
    [{ num: 0xfffff, more: true, szx: 6 }, 'fffffe'],
  ])('%o is %s on the wire (NUM 4/12/20 bits, M, SZX)', (v, h) => {
    expect(encodeBlock(v).toString('hex')).toBe(h);
    expect(decodeBlock(Buffer.from(h, 'hex'))).toEqual(v);
  });

  it('rejects a block option longer than 3 bytes (§2.2: 0-3 bytes)', () => {
    expect(() => decodeBlock(Buffer.alloc(4))).toThrow(CoapFormatError);
  });

  it('getBlock reads Block1 and Block2 separately', () => {
    const m = withOpts([opt(Opt.BLOCK2, '\x12'), opt(Opt.BLOCK1, '\x2e')]);
    expect(getBlock(m, Opt.BLOCK2)).toEqual({ num: 1, more: false, szx: 2 });
    expect(getBlock(m, Opt.BLOCK1)).toEqual({ num: 2, more: true, szx: 6 });
    expect(getBlock(withOpts([]), Opt.BLOCK1)).toBeUndefined();
  });
});

describe('option accessors', () => {
  const m = withOpts([
    opt(Opt.URI_PATH, 'rd'),
    opt(Opt.URI_PATH, '5a3f'),
    opt(Opt.CONTENT_FORMAT, Buffer.from([0x2d, 0x16])),
    opt(Opt.URI_QUERY, 'ep=node1'),
    opt(Opt.URI_QUERY, 'lt=300'),
    opt(Opt.SIZE1, Buffer.from([0x0b, 0xb8])),
  ]);

  it('reads repeated Uri-Path and Uri-Query in order (§5.10.1)', () => {
    expect(uriPath(m)).toEqual(['rd', '5a3f']);
    expect(uriQuery(m)).toEqual(['ep=node1', 'lt=300']);
  });

  it('reads uint options and reports absent ones as undefined', () => {
    expect(contentFormat(m)).toBe(11542);
    expect(getUintOption(m, Opt.SIZE1)).toBe(3000);
    expect(observeValue(m)).toBeUndefined();
    expect(getOption(m, Opt.ETAG)).toBeUndefined();
    expect(getOptions(m, Opt.ACCEPT)).toEqual([]);
  });

  it('an empty Observe value is 0 (register, RFC 7641 §2)', () => {
    expect(observeValue(withOpts([opt(Opt.OBSERVE, EMPTY_BUFFER)]))).toBe(0);
  });

  it('pathOptions builds Uri-Path then Uri-Query', () => {
    expect(pathOptions(['3', '0', '1'], ['pmin=10'])).toEqual([
      opt(11, '3'),
      opt(11, '0'),
      opt(11, '1'),
      opt(15, 'pmin=10'),
    ]);
  });

  it('withOptions inserts in number order and keeps repeated options stable', () => {
    const base = [opt(11, 'a'), opt(11, 'b'), opt(15, 'q')];
    const out = withOptions(base, opt(11, 'c'), uintOption(Opt.CONTENT_FORMAT, 60), opt(4, 'e'));
    expect(out.map((o) => `${o.number}:${o.value.toString('hex')}`)).toEqual([
      '4:65',
      '11:61',
      '11:62',
      '11:63',
      '12:3c',
      '15:71',
    ]);
    expect(base).toHaveLength(3);
  });

  it('withoutOptions removes every occurrence of the given numbers', () => {
    expect(withoutOptions(m.options, Opt.URI_PATH, Opt.SIZE1).map((o) => o.number)).toEqual([
      Opt.CONTENT_FORMAT,
      Opt.URI_QUERY,
      Opt.URI_QUERY,
    ]);
  });
});
