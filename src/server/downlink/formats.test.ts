import type { Registration } from '../registration/registration';
import { FormatPolicy } from './formats';

const reg = (lwm2mVersion: Registration['lwm2mVersion'], supportedContentFormats?: number[]): Registration => ({
  id: 'x',
  endpoint: 'e',
  address: '127.0.0.1',
  port: 1,
  lifetime: 60,
  lwm2mVersion,
  binding: 'U',
  queueMode: false,
  rootPath: '/',
  ...(supportedContentFormats ? { supportedContentFormats } : {}),
  objects: [],
  objectLinks: '',
  registeredAt: 0,
  lastUpdate: 0,
  expiresAt: 0,
});

describe('FormatPolicy (LwM2M-Core 1.2 §7.4)', () => {
  const policy = new FormatPolicy();
  it('uses TLV for 1.0 clients and refuses composite operations', () => {
    expect(policy.single(reg('1.0'))).toBe(11542);
    expect(policy.composite(reg('1.0'))).toBeUndefined();
  });
  it('prefers SenML CBOR for 1.1+ clients that announce nothing', () => {
    expect(policy.single(reg('1.1'))).toBe(112);
    expect(policy.composite(reg('1.2'))).toBe(112);
  });
  it('follows what the client announced with ct', () => {
    expect(policy.single(reg('1.1', [110, 11542]))).toBe(110);
    expect(policy.single(reg('1.1', [11542]))).toBe(11542);
    expect(policy.composite(reg('1.1', [11544]))).toBe(11544);
  });
});

describe('FormatPolicy.candidates: what to fall back through when a device refuses a format', () => {
  const policy = new FormatPolicy();
  const none = new Set<number>();
  it('1.0: TLV, then LwM2M JSON (the multi-value formats of 1.0); no composite formats', () => {
    expect(policy.candidates(reg('1.0'), 'single', none)).toEqual([11542, 11543]);
    expect(policy.candidates(reg('1.0'), 'single', new Set([11542]))).toEqual([11543]);
    expect(policy.candidates(reg('1.0'), 'composite', none)).toEqual([]);
  });
  it('1.1: the announced formats in order of preference, then TLV; the refused ones left out', () => {
    expect(policy.candidates(reg('1.1', [110, 112]), 'single', none)).toEqual([112, 110, 11542]);
    expect(policy.candidates(reg('1.1', [110, 112]), 'single', new Set([112]))).toEqual([110, 11542]);
    expect(policy.candidates(reg('1.1'), 'single', new Set([112, 110]))).toEqual([11544, 11542]);
    expect(policy.candidates(reg('1.1', [110, 112]), 'composite', new Set([112]))).toEqual([110]);
  });
  it('every format refused: the best is tried again rather than nothing', () => {
    expect(policy.candidates(reg('1.1', [110]), 'single', new Set([110, 11542]))).toEqual([110]);
  });
});
