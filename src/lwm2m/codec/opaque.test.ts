import { parsePath } from '../path';
import { multi, resourceInstance, single, type LwM2mNode } from '../node';
import type { CodecContext } from './types';
import { opaqueCodec } from './opaque';
import { codecError, testModel, T } from '../../../test/support/codec-model';

const ctx: CodecContext = { model: testModel };
const dec = (b: Buffer, path: string): LwM2mNode => opaqueCodec.decode(b, parsePath(path), ctx);
const enc = (node: LwM2mNode, path: string): Buffer => opaqueCodec.encode(node, parsePath(path), ctx);
const OPAQUE_PATH = `/${T.OBJECT}/0/${T.OPAQUE}`;

describe('application/octet-stream (LwM2M-Core 1.1 §7.4.2)', () => {
  it('carries the raw bytes of an opaque resource both ways', () => {
    const bytes = Buffer.from([0x00, 0xff, 0x10, 0x80]);
    expect(dec(bytes, OPAQUE_PATH)).toEqual(single(T.OPAQUE, 'OPAQUE', bytes));
    expect(enc(single(T.OPAQUE, 'OPAQUE', bytes), OPAQUE_PATH)).toEqual(bytes);
    expect(dec(Buffer.alloc(0), OPAQUE_PATH)).toEqual(single(T.OPAQUE, 'OPAQUE', Buffer.alloc(0)));
  });

  it('copies the payload (the transport may reuse its buffer)', () => {
    const payload = Buffer.from([1, 2, 3]);
    const node = dec(payload, OPAQUE_PATH);
    payload.fill(9);
    expect(node).toEqual(single(T.OPAQUE, 'OPAQUE', Buffer.from([1, 2, 3])));
  });

  it('decodes resource instances and unknown resources as OPAQUE', () => {
    expect(dec(Buffer.from([7]), '/4242/0/1/3')).toEqual(resourceInstance(3, 'OPAQUE', Buffer.from([7])));
    expect(dec(Buffer.from([7]), '/4242/0/1')).toEqual(single(1, 'OPAQUE', Buffer.from([7])));
  });

  it('refuses resources the model types otherwise, non-Buffer values and non-leaf paths', () => {
    codecError(() => dec(Buffer.from('x'), '/3/0/0'), '/3/0/0');
    codecError(() => enc(single(0, 'STRING', 'x'), '/3/0/0'), '/3/0/0');
    codecError(() => enc(single(1, 'STRING', 'x'), '/4242/0/1'), '/4242/0/1');
    codecError(() => enc(multi(T.OPAQUE, 'OPAQUE', []), OPAQUE_PATH), OPAQUE_PATH);
    codecError(() => dec(Buffer.from('x'), `/${T.OBJECT}/0`), `/${T.OBJECT}/0`);
  });

  it('supports opaque single values only', () => {
    expect(opaqueCodec.format).toBe(42);
    expect(opaqueCodec.supports(parsePath(OPAQUE_PATH))).toBe(true);
    expect(opaqueCodec.supports(parsePath(OPAQUE_PATH), single(T.OPAQUE, 'OPAQUE', Buffer.alloc(1)))).toBe(true);
    expect(opaqueCodec.supports(parsePath('/3/0/0'), single(0, 'STRING', 'x'))).toBe(false);
    expect(opaqueCodec.supports(parsePath('/3/0'))).toBe(false);
  });
});
