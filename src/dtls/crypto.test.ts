import { CIPHER_SUITES, chooseSuite } from './cipher-suites';
import { CookieJar } from './cookie';
import { prf, pskPreMaster } from './prf';
import { ContentType, parseRecords } from './record';
import { deriveKeys, RecordProtection } from './record-protection';

describe('TLS 1.2 PRF (RFC 5246 §5)', () => {
  it('matches the published P_SHA256 test vector', () => {
    // The widely used TLS 1.2 PRF SHA-256 test vector (secret, "test label", seed → 100 bytes).
    const out = prf(
      Buffer.from('9bbe436ba940f017b17652849a71db35', 'hex'),
      'test label',
      Buffer.from('a0ba9f936cda311827a6f796ffd5198c', 'hex'),
      100,
    );
    expect(out.toString('hex')).toBe(
      'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
    );
  });

  it('builds the PSK premaster of RFC 4279 §2', () => {
    expect(pskPreMaster(Buffer.from('abcd', 'hex')).toString('hex')).toBe('000200000002abcd');
  });
});

describe('record protection', () => {
  const master = Buffer.alloc(48, 3);
  const cr = Buffer.alloc(32, 1);
  const sr = Buffer.alloc(32, 2);

  for (const suite of CIPHER_SUITES) {
    for (const cid of [undefined, Buffer.from('0a0b0c0d0e0f', 'hex')]) {
      it(`${suite.name}${cid ? ' with a connection ID' : ''}: seals and opens, refuses a flipped bit`, () => {
        const keys = deriveKeys(suite, master, cr, sr);
        const sender = new RecordProtection(suite, keys.server);
        const receiver = new RecordProtection(suite, keys.server);
        const rec = sender.seal(ContentType.APPLICATION_DATA, 1, 42, Buffer.from('coap payload'), cid);
        const [parsed] = parseRecords(rec, cid?.length ?? 0).records;
        expect(parsed?.type).toBe(cid ? ContentType.TLS12_CID : ContentType.APPLICATION_DATA);
        const opened = receiver.open(parsed as NonNullable<typeof parsed>);
        expect(opened?.type).toBe(ContentType.APPLICATION_DATA);
        expect(opened?.content.toString()).toBe('coap payload');
        const tampered = Buffer.from(rec);
        tampered[tampered.length - 3] = (tampered[tampered.length - 3] as number) ^ 1;
        expect(
          receiver.open(parseRecords(tampered, cid?.length ?? 0).records[0] as NonNullable<typeof parsed>),
        ).toBeUndefined();
        // Another record number (replayed under a new sequence): the AAD/MAC differs.
        const moved = Buffer.from(rec);
        moved[10] = (moved[10] as number) ^ 1;
        expect(
          receiver.open(parseRecords(moved, cid?.length ?? 0).records[0] as NonNullable<typeof parsed>),
        ).toBeUndefined();
      });
    }
  }

  it("prefers CCM_8 among the PSK suites a client offers, whatever the client's order", () => {
    expect(chooseSuite([0x00a8, 0x00ae, 0xc0a8], (s) => s.keyExchange === 'psk')?.name).toBe(
      'TLS_PSK_WITH_AES_128_CCM_8',
    );
    expect(chooseSuite([0xd001, 0x00ff], (s) => s.keyExchange === 'psk')).toBeUndefined();
  });
});

describe('CookieJar (RFC 6347 §4.2.1)', () => {
  it('accepts its own cookie for the same peer and hello, in this period and the next; not after, nor for others', () => {
    let now = 1_000_000;
    const base = Buffer.alloc(32, 9);
    const jar = new CookieJar(base, 60_000, () => now);
    const other = new CookieJar(base, 60_000, () => now); // another instance, same secret
    const c = jar.make('1.2.3.4:5684', Buffer.from('hello'));
    expect(other.check('1.2.3.4:5684', Buffer.from('hello'), c)).toBe(true);
    expect(jar.check('1.2.3.4:5685', Buffer.from('hello'), c)).toBe(false);
    expect(jar.check('1.2.3.4:5684', Buffer.from('hellp'), c)).toBe(false);
    now += 60_000;
    expect(jar.check('1.2.3.4:5684', Buffer.from('hello'), c)).toBe(true);
    now += 60_000;
    expect(jar.check('1.2.3.4:5684', Buffer.from('hello'), c)).toBe(false);
    expect(
      new CookieJar(Buffer.alloc(32, 8), 60_000, () => now).check(
        '1.2.3.4:5684',
        Buffer.from('hello'),
        jar.make('1.2.3.4:5684', Buffer.from('hello')),
      ),
    ).toBe(false);
  });
});
