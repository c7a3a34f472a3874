import { parsePath } from '../path';
import { instance, multi, resourceInstance, single, type LwM2mNode } from '../node';
import type { CodecContext } from './types';
import { createTextCodec, textCodec } from './text';
import { codecError, testModel, T } from '../../../test/support/codec-model';

const ctx: CodecContext = { model: testModel };
const dec = (text: string | Buffer, path: string, c: CodecContext = ctx): LwM2mNode =>
  textCodec.decode(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, parsePath(path), c);
const enc = (node: LwM2mNode, path: string): string => textCodec.encode(node, parsePath(path), ctx).toString('utf8');
const p = (rid: number): string => `/${T.OBJECT}/0/${rid}`;

describe('text/plain: spec examples', () => {
  it('reads the Manufacturer of the Device example (LwM2M-Core 1.0 §6.4.2 / 1.1 §7.4.1)', () => {
    expect(dec('Open Mobile Alliance', '/3/0/0')).toEqual(single(0, 'STRING', 'Open Mobile Alliance'));
    expect(enc(single(0, 'STRING', 'Open Mobile Alliance'), '/3/0/0')).toBe('Open Mobile Alliance');
  });

  it('represents opaque as base64 (LwM2M-Core 1.1.1 Appendix C, Table C.2: 01..05 ↔ "AQIDBAU=")', () => {
    const node = single(T.OPAQUE, 'OPAQUE', Buffer.from([1, 2, 3, 4, 5]));
    expect(enc(node, p(T.OPAQUE))).toBe('AQIDBAU=');
    expect(dec('AQIDBAU=', p(T.OPAQUE))).toEqual(node);
    expect(dec('AQIDBAU', p(T.OPAQUE))).toEqual(node); // padding optional on input
    codecError(() => dec('AQ!DBAU=', p(T.OPAQUE)), p(T.OPAQUE));
    codecError(() => dec('AQIDB', p(T.OPAQUE)), p(T.OPAQUE));
  });

  it('can be configured to reject opaque values', () => {
    const strict = createTextCodec({ opaque: 'reject' });
    codecError(() => strict.decode(Buffer.from('AQIDBAU='), parsePath(p(T.OPAQUE)), ctx), p(T.OPAQUE));
    codecError(() => strict.encode(single(T.OPAQUE, 'OPAQUE', Buffer.from([1])), parsePath(p(T.OPAQUE)), ctx));
    expect(strict.supports(parsePath(p(T.OPAQUE)), single(T.OPAQUE, 'OPAQUE', Buffer.from([1])))).toBe(false);
  });
});

describe('text/plain: typed decoding', () => {
  it('decodes integers as number, or bigint beyond 2^53, range-checked to 64 bits', () => {
    expect(dec('100', '/3/0/9')).toEqual(single(9, 'INTEGER', 100));
    expect(dec('-42', p(T.INTEGER))).toEqual(single(T.INTEGER, 'INTEGER', -42));
    expect(dec('9007199254740993', p(T.INTEGER))).toEqual(single(T.INTEGER, 'INTEGER', 9007199254740993n));
    expect(dec('-9223372036854775808', p(T.INTEGER))).toEqual(single(T.INTEGER, 'INTEGER', -(2n ** 63n)));
    codecError(() => dec('9223372036854775808', p(T.INTEGER)), p(T.INTEGER));
    codecError(() => dec('12a', p(T.INTEGER)), p(T.INTEGER));
    codecError(() => dec('1.0', p(T.INTEGER)), p(T.INTEGER));
    codecError(() => dec('', p(T.INTEGER)), p(T.INTEGER));
    expect(dec('18446744073709551615', p(T.UNSIGNED))).toEqual(single(T.UNSIGNED, 'UNSIGNED_INTEGER', 2n ** 64n - 1n));
    codecError(() => dec('-1', p(T.UNSIGNED)), p(T.UNSIGNED));
    codecError(() => dec('18446744073709551616', p(T.UNSIGNED)), p(T.UNSIGNED));
  });

  it('decodes floats, booleans, time, Objlnk', () => {
    expect(dec('23.5', p(T.FLOAT))).toEqual(single(T.FLOAT, 'FLOAT', 23.5));
    expect(dec('-1e3', p(T.FLOAT))).toEqual(single(T.FLOAT, 'FLOAT', -1000));
    expect(dec('7', p(T.FLOAT))).toEqual(single(T.FLOAT, 'FLOAT', 7));
    for (const bad of ['NaN', 'Infinity', '1,5', '0x10', '', ' 1']) codecError(() => dec(bad, p(T.FLOAT)), p(T.FLOAT));
    expect(dec('1', p(T.BOOLEAN))).toEqual(single(T.BOOLEAN, 'BOOLEAN', true));
    expect(dec('0', p(T.BOOLEAN))).toEqual(single(T.BOOLEAN, 'BOOLEAN', false));
    for (const bad of ['true', '2', '']) codecError(() => dec(bad, p(T.BOOLEAN)), p(T.BOOLEAN));
    expect(dec('1367491215', '/3/0/13')).toEqual(single(13, 'TIME', new Date(1367491215000)));
    codecError(() => dec('2013-05-02', '/3/0/13'), '/3/0/13');
    codecError(() => dec('99999999999999999', '/3/0/13'), '/3/0/13');
    expect(dec('3:0', p(T.OBJLNK))).toEqual(single(T.OBJLNK, 'OBJLNK', { objectId: 3, instanceId: 0 }));
    expect(dec('65535:65535', p(T.OBJLNK))).toEqual(single(T.OBJLNK, 'OBJLNK', { objectId: 65535, instanceId: 65535 }));
    for (const bad of ['65536:0', '3', '3:', ':0', '3:0:1']) codecError(() => dec(bad, p(T.OBJLNK)), p(T.OBJLNK));
  });

  it('decodes an unknown resource as STRING, and resource instances', () => {
    expect(dec('whatever', '/4242/0/1')).toEqual(single(1, 'STRING', 'whatever'));
    expect(dec('5', '/3/0/6/1')).toEqual(resourceInstance(1, 'INTEGER', 5));
  });

  it('decodes with the object version the device announced', () => {
    const v1: CodecContext = { model: testModel, versions: new Map([[9001, '1.0']]) };
    const v2: CodecContext = { model: testModel, versions: new Map([[9001, '2.0']]) };
    expect(dec('42', '/9001/0/0', v1)).toEqual(single(0, 'STRING', '42'));
    expect(dec('42', '/9001/0/0', v2)).toEqual(single(0, 'INTEGER', 42));
  });

  it('rejects invalid UTF-8, executables, and paths that are not single values', () => {
    codecError(() => dec(Buffer.from([0x61, 0xff]), '/3/0/0'), '/3/0/0');
    codecError(() => dec('', '/3/0/4'), '/3/0/4');
    codecError(() => dec('x', '/3/0'), '/3/0');
    codecError(() => dec('x', '/3'), '/3');
    codecError(() => textCodec.decode(Buffer.from('x'), {}, ctx), '/');
  });
});

describe('text/plain: encoding', () => {
  it('formats each type', () => {
    expect(enc(single(T.INTEGER, 'INTEGER', -5), p(T.INTEGER))).toBe('-5');
    expect(enc(single(T.INTEGER, 'INTEGER', 2n ** 63n - 1n), p(T.INTEGER))).toBe('9223372036854775807');
    expect(enc(single(T.UNSIGNED, 'UNSIGNED_INTEGER', 2n ** 64n - 1n), p(T.UNSIGNED))).toBe('18446744073709551615');
    expect(enc(single(T.FLOAT, 'FLOAT', 0.1), p(T.FLOAT))).toBe('0.1');
    expect(enc(single(T.FLOAT, 'FLOAT', 24), p(T.FLOAT))).toBe('24');
    expect(enc(single(T.BOOLEAN, 'BOOLEAN', true), p(T.BOOLEAN))).toBe('1');
    expect(enc(single(T.BOOLEAN, 'BOOLEAN', false), p(T.BOOLEAN))).toBe('0');
    expect(enc(single(13, 'TIME', new Date(1367491215999)), '/3/0/13')).toBe('1367491215');
    expect(enc(single(13, 'TIME', new Date(-1500)), '/3/0/13')).toBe('-2');
    expect(enc(single(T.OBJLNK, 'OBJLNK', { objectId: 3, instanceId: 0 }), p(T.OBJLNK))).toBe('3:0');
    expect(enc(single(T.STRING, 'STRING', 'héllo ✓'), p(T.STRING))).toBe('héllo ✓');
    expect(enc(resourceInstance(1, 'INTEGER', 5), '/3/0/6/1')).toBe('5');
  });

  it('converts to the model type when the value fits, else fails', () => {
    expect(enc(single(9, 'FLOAT', 100), '/3/0/9')).toBe('100');
    expect(enc(single(13, 'INTEGER', 1367491215), '/3/0/13')).toBe('1367491215');
    codecError(() => enc(single(9, 'STRING', '100'), '/3/0/9'), '/3/0/9');
    codecError(() => enc(single(T.FLOAT, 'FLOAT', Infinity), p(T.FLOAT)), p(T.FLOAT));
    codecError(() => enc(single(13, 'TIME', new Date(NaN)), '/3/0/13'), '/3/0/13');
  });

  it('refuses multiple resources, containers and mismatched ids', () => {
    codecError(() => enc(multi(6, 'INTEGER', [[0, 1]]), '/3/0/6'), '/3/0/6');
    codecError(() => enc(instance(0, []), '/3/0'), '/3/0');
    codecError(() => enc(single(1, 'STRING', 'x'), '/3/0/0'), '/3/0/0');
    codecError(() => enc(resourceInstance(2, 'INTEGER', 1), '/3/0/6/1'), '/3/0/6/1');
  });

  it('supports single values only', () => {
    expect(textCodec.supports(parsePath('/3/0/0'))).toBe(true);
    expect(textCodec.supports(parsePath('/3/0/6/0'), resourceInstance(0, 'INTEGER', 1))).toBe(true);
    expect(textCodec.supports(parsePath('/3/0/6'), multi(6, 'INTEGER', []))).toBe(false);
    expect(textCodec.supports(parsePath('/3/0'))).toBe(false);
    expect(textCodec.format).toBe(0);
  });
});
