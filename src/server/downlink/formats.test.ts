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
