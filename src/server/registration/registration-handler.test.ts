/**
 * The Registration Interface (LwM2M-Core 1.2 §6.2) without sockets: the real LwM2mServer with
 * in-memory stores on the in-memory datagram pair; the test is the device, in lockstep (every
 * request gets exactly one datagram back: its piggybacked ACK).
 */
import { Code, MessageType, Method, Opt, type CoapMessage } from '../../coap/message';
import { getOptions, pathOptions, uintOption } from '../../coap/options';
import type { Peer, PeerIdentity } from '../../transport/types';
import type { ServerEvent } from '../events';
import { DEVICE_PEER, MemoryDatagramPair } from '../../../test/support/memory-datagram-pair';
import { startTestServer, type TestServer } from '../../../test/support/test-server';

const MOVED: Peer = { address: '198.51.100.99', port: 61000 };
const LINK_FORMAT = 40;

let pair: MemoryDatagramPair;
let srv: TestServer;

beforeEach(async () => {
  pair = new MemoryDatagramPair();
  srv = await startTestServer({ transport: pair.server });
});
afterEach(async () => {
  await srv.stop();
  await pair.close();
});

interface Req {
  readonly query?: readonly string[];
  readonly payload?: string;
  /** Content-Format; link-format when there is a payload, unless null. */
  readonly format?: number | null;
  readonly from?: Peer;
  readonly identity?: PeerIdentity;
}

/** Sends a CON request from the device; resolves with its reply, which must be the only datagram and a piggybacked ACK. */
async function request(code: number, path: readonly string[], r: Req = {}): Promise<CoapMessage> {
  const format = r.format === undefined ? (r.payload ? LINK_FORMAT : null) : r.format;
  const options = [...pathOptions(path, r.query), ...(format === null ? [] : [uintOption(Opt.CONTENT_FORMAT, format)])];
  const from = r.from ?? DEVICE_PEER;
  const req = pair.sendCoap(
    { type: MessageType.CON, code, token: Buffer.from('70', 'hex'), options, payload: Buffer.from(r.payload ?? '') },
    from,
    r.identity,
  );
  const replies = await pair.received();
  expect(replies.map((d) => [d.msg.type, d.msg.messageId, d.peer])).toEqual([[MessageType.ACK, req.messageId, from]]);
  return (replies[0] as { msg: CoapMessage }).msg;
}

/** Registers `ep` and returns its registration id (from the Location-Path). */
async function register(ep: string, r: Req = {}): Promise<string> {
  const res = await request(Method.POST, ['rd'], {
    payload: '</1/0>,</3/0>',
    ...r,
    query: [`ep=${ep}`, ...(r.query ?? ['lt=300', 'lwm2m=1.1'])],
  });
  expect(res.code).toBe(Code.CREATED);
  const location = getOptions(res, Opt.LOCATION_PATH).map(String);
  expect(location).toHaveLength(2);
  expect(location[0]).toBe('rd');
  return location[1] as string;
}

function eventsOf<T extends ServerEvent['type']>(type: T): Array<Extract<ServerEvent, { type: T }>> {
  return srv.events.filter((e): e is Extract<ServerEvent, { type: T }> => e.type === type);
}

describe('Register: POST /rd (LwM2M-Core 1.2 §6.2.1)', () => {
  it('answers 2.01 Created with Location-Path rd/{id}, stores every parameter and announces it once', async () => {
    const id = await register('dev-a', {
      query: ['lt=120', 'lwm2m=1.2', 'b=U', 'Q', 'sms=+123'],
      payload: '</>;rt="oma.lwm2m";ct="60 110 112 11542", </1/0>, </3>;ver=1.2, </3/0>, </3303/0>, </3303/1>',
    });
    expect(id).toMatch(/^[A-Za-z0-9_-]{11}$/);
    const reg = await srv.registrations.getById(id);
    expect(reg).toMatchObject({
      id,
      endpoint: 'dev-a',
      address: DEVICE_PEER.address,
      port: DEVICE_PEER.port,
      lifetime: 120,
      lwm2mVersion: '1.2',
      binding: 'U',
      queueMode: true,
      smsNumber: '+123',
      rootPath: '/',
      supportedContentFormats: [60, 110, 112, 11542],
    });
    expect(reg?.objects).toEqual(
      expect.arrayContaining([
        { objectId: 3, version: '1.2', instances: [0] },
        { objectId: 3303, instances: [0, 1] },
      ]),
    );
    expect(reg?.expiresAt).toBe((reg?.registeredAt ?? 0) + 120_000);
    expect(reg?.security).toBeUndefined();
    expect(eventsOf('registered')).toEqual([{ type: 'registered', registration: reg }]);
  });

  it('defaults to lifetime 86400 s, LwM2M 1.0 and binding U; takes an empty object list', async () => {
    const id = await register('dev-min', { query: [], payload: '' });
    expect(await srv.registrations.getById(id)).toMatchObject({
      lifetime: 86400,
      lwm2mVersion: '1.0',
      binding: 'U',
      queueMode: false,
      rootPath: '/',
      objects: [],
    });
  });

  it('keeps an alternate root path, and a 1.0 binding with Q means queue mode', async () => {
    const id = await register('dev-alt', {
      query: ['lwm2m=1.0', 'b=UQ'],
      payload: '</lwm2m>;rt="oma.lwm2m", </lwm2m/1/0>, </lwm2m/3/0>',
    });
    expect(await srv.registrations.getById(id)).toMatchObject({ rootPath: '/lwm2m', binding: 'UQ', queueMode: true });
  });

  it.each([
    [['lt=60'], 'ep (endpoint client name) is required'],
    [['ep=x', 'lt=zero'], 'lt must be a positive integer'],
    [['ep=x', 'lt=0'], 'lt must be a positive integer'],
    [['ep=x', 'lwm2m=2.0'], 'lwm2m version "2.0" is not supported'],
    [['ep=x', 'b=XYZ'], 'b must be a binding mode'],
    [['ep=x', 'Q=1'], 'Q takes no value'],
    [['ep=x', 'ep=y'], 'query parameter "ep" is repeated'],
    [['ep'], 'ep needs a value'],
  ])('answers %j with 4.00 and the diagnostic "%s", registering nothing', async (query, diagnostic) => {
    const res = await request(Method.POST, ['rd'], { query, payload: '</1/0>' });
    expect(res.code).toBe(Code.BAD_REQUEST);
    expect(res.payload.toString()).toContain(diagnostic);
    expect(await srv.registrations.count()).toBe(0);
    expect(eventsOf('registered')).toEqual([]);
    expect(eventsOf('rejected')).toMatchObject([
      { peer: DEVICE_PEER, operation: '/rd', code: Code.BAD_REQUEST, reason: res.payload.toString() },
    ]);
  });

  it('answers 4.00 for an object list that is not link-format, or not well-formed', async () => {
    const notLinkFormat = await request(Method.POST, ['rd'], { query: ['ep=x'], payload: '</1/0>', format: 0 });
    expect(notLinkFormat.code).toBe(Code.BAD_REQUEST);
    expect(notLinkFormat.payload.toString()).toContain('application/link-format (40)');
    const garbled = await request(Method.POST, ['rd'], { query: ['ep=x'], payload: '</3/0>;ver=1.1,<garbage' });
    expect(garbled.code).toBe(Code.BAD_REQUEST);
    expect(garbled.payload.length).toBeGreaterThan(0);
    expect(await srv.registrations.count()).toBe(0);
  });

  it('a second Register of the endpoint replaces the first and ends its observations', async () => {
    const first = await register('dev-r');
    const token = 'feedface00000001';
    await srv.observations.add({
      token,
      registrationId: first,
      endpoint: 'dev-r',
      kind: 'single',
      paths: ['/3/0/9'],
      createdAt: 0,
    });
    const second = await register('dev-r', { from: MOVED });
    expect(second).not.toBe(first);
    expect(await srv.registrations.getById(first)).toBeUndefined();
    expect((await srv.registrations.getByEndpoint('dev-r'))?.id).toBe(second);
    expect(await srv.observations.getByToken(token)).toBeUndefined();
    expect(eventsOf('registered').map((e) => [e.registration.id, e.replaced?.id])).toEqual([
      [first, undefined],
      [second, first],
    ]);
    expect(eventsOf('observation-ended')).toMatchObject([{ reason: 'replaced', observation: { token } }]);
  });

  it('over DTLS, registers only as the endpoint the credential is bound to (4.03 otherwise) and records the identity', async () => {
    const identity: PeerIdentity = { mode: 'psk', name: 'id-a', endpoint: 'dev-a' };
    const refused = await request(Method.POST, ['rd'], { query: ['ep=dev-b'], payload: '</1/0>', identity });
    expect(refused.code).toBe(Code.FORBIDDEN);
    expect(refused.payload.toString()).toContain('bound to endpoint "dev-a", not "dev-b"');
    const id = await register('dev-a', { identity });
    expect((await srv.registrations.getById(id))?.security).toEqual({ mode: 'psk', name: 'id-a' });
    // The same device in plaintext may not act on that registration.
    const plain = await request(Method.POST, ['rd', id], { query: ['lt=60'] });
    expect(plain.code).toBe(Code.FORBIDDEN);
    expect(plain.payload.toString()).toContain('registered over DTLS');
  });
});

describe('Update: POST /rd/{id} (LwM2M-Core 1.2 §6.2.2)', () => {
  it('answers 2.04, applies lt, b and the object list, and follows a new source address', async () => {
    const id = await register('dev-u');
    const before = await srv.registrations.getById(id);
    const res = await request(Method.POST, ['rd', id], {
      query: ['lt=600', 'b=UQ'],
      payload: '</1/0>,</3/0>,</5/0>',
      from: MOVED,
    });
    expect(res.code).toBe(Code.CHANGED);
    const after = await srv.registrations.getById(id);
    expect(after).toMatchObject({
      lifetime: 600,
      binding: 'UQ',
      queueMode: true,
      address: MOVED.address,
      port: MOVED.port,
    });
    expect(after?.objects.map((o) => o.objectId)).toEqual([1, 3, 5]);
    expect(after?.expiresAt).toBe((after?.lastUpdate ?? 0) + 600_000);
    expect(eventsOf('updated')).toEqual([{ type: 'updated', before, after, addressChanged: true }]);
  });

  it('an Update without parameters from the same address only refreshes the registration', async () => {
    const id = await register('dev-same');
    const before = await srv.registrations.getById(id);
    expect((await request(Method.POST, ['rd', id])).code).toBe(Code.CHANGED);
    const after = await srv.registrations.getById(id);
    expect(after).toMatchObject({ lifetime: 300, binding: 'U', objects: before?.objects, port: DEVICE_PEER.port });
    expect(eventsOf('updated')).toMatchObject([{ addressChanged: false }]);
  });

  it('answers 4.04 for an unknown registration, and 4.00 when ep or lwm2m would change', async () => {
    const unknown = await request(Method.POST, ['rd', 'nope'], { query: ['lt=60'] });
    expect(unknown.code).toBe(Code.NOT_FOUND);
    expect(unknown.payload.toString()).toBe('no registration nope');
    const id = await register('dev-u2');
    for (const query of [['ep=other'], ['lwm2m=1.2']]) {
      const res = await request(Method.POST, ['rd', id], { query });
      expect(res.code).toBe(Code.BAD_REQUEST);
      expect(res.payload.toString()).toContain('cannot change in an Update');
    }
    expect(eventsOf('updated')).toEqual([]);
  });
});

describe('De-register: DELETE /rd/{id} (LwM2M-Core 1.2 §6.2.3)', () => {
  it('answers 2.02, removes the registration and its observations once; a second DELETE is 4.04', async () => {
    const id = await register('dev-d');
    await srv.observations.add({
      token: 'aa',
      registrationId: id,
      endpoint: 'dev-d',
      kind: 'single',
      paths: ['/3/0'],
      createdAt: 0,
    });
    expect((await request(Method.DELETE, ['rd', id])).code).toBe(Code.DELETED);
    expect(await srv.registrations.getByEndpoint('dev-d')).toBeUndefined();
    expect(await srv.observations.getByToken('aa')).toBeUndefined();
    const again = await request(Method.DELETE, ['rd', id]);
    expect(again.code).toBe(Code.NOT_FOUND);
    expect(again.payload.toString()).toBe(`no registration ${id}`);
    expect(eventsOf('deregistered')).toMatchObject([{ registration: { id, endpoint: 'dev-d' } }]);
    expect(eventsOf('observation-ended')).toMatchObject([{ reason: 'deregistered', observation: { token: 'aa' } }]);
  });
});

describe('requests under /rd that are no Registration Interface operation', () => {
  it('answer 4.05 for another method and 4.04 for a deeper path', async () => {
    const id = await register('dev-x');
    expect((await request(Method.GET, ['rd'])).code).toBe(Code.METHOD_NOT_ALLOWED);
    expect((await request(Method.GET, ['rd', id])).code).toBe(Code.METHOD_NOT_ALLOWED);
    expect((await request(Method.PUT, ['rd', id])).code).toBe(Code.METHOD_NOT_ALLOWED);
    const deeper = await request(Method.POST, ['rd', id, 'x']);
    expect(deeper.code).toBe(Code.NOT_FOUND);
    expect(deeper.payload.toString()).toBe('unknown registration location');
    expect(await srv.registrations.getById(id)).toBeDefined();
  });
});
