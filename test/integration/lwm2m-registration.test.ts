/**
 * Registration Interface lockstep tests (LwM2M-Core 1.2 §6.2): a scripted device on a real UDP
 * socket talks to an in-process server on port 0.
 */
import { Code, MessageType, Method, Opt, type CoapOption } from '../../src/coap/message';
import { encodeBlock, getOptions, pathOptions, uintOption } from '../../src/coap/options';
import { ScriptedPeer, type Received } from '../support/scripted-peer';
import { startTestServer, type TestServer } from '../support/test-server';

let srv: TestServer;
let dev: ScriptedPeer;
let mid = 1000;

beforeEach(async () => {
  srv = await startTestServer();
  dev = await ScriptedPeer.open();
});
afterEach(async () => {
  await dev.close();
  await srv.stop();
});

function post(
  peer: ScriptedPeer,
  path: string[],
  query: string[],
  payload = '',
  extra: CoapOption[] = [],
): Promise<Received> {
  const messageId = mid++;
  const options = [...pathOptions(path, query), ...(payload ? [uintOption(Opt.CONTENT_FORMAT, 40)] : []), ...extra];
  peer.send(
    {
      type: MessageType.CON,
      code: Method.POST,
      messageId,
      token: Buffer.from([messageId & 0xff]),
      options,
      payload: Buffer.from(payload),
    },
    srv.address,
  );
  return peer.waitFor((r) => r.msg.messageId === messageId && r.msg.type === MessageType.ACK);
}

async function register(
  peer: ScriptedPeer,
  ep: string,
  links = '</1/0>,</3/0>',
  query: string[] = ['lt=300', 'lwm2m=1.1'],
): Promise<string> {
  const r = await post(peer, ['rd'], [`ep=${ep}`, ...query], links);
  expect(r.msg.code).toBe(Code.CREATED);
  const loc = getOptions(r.msg, Opt.LOCATION_PATH).map((b) => b.toString());
  expect(loc[0]).toBe('rd');
  return loc[1] as string;
}

describe('Register (LwM2M-Core 1.2 §6.2.1)', () => {
  it('answers 2.01 with Location-Path rd/{id} and records every parameter', async () => {
    const id = await register(
      dev,
      'dev-a',
      '</>;rt="oma.lwm2m";ct="60 110 112 11542", </1/0>, </3>;ver=1.2, </3/0>, </3303/0>, </3303/1>',
      ['lt=120', 'lwm2m=1.2', 'b=U', 'Q', 'sms=+123'],
    );
    const e = await srv.waitForEvent('registered');
    expect(e.registration).toMatchObject({
      id,
      endpoint: 'dev-a',
      lifetime: 120,
      lwm2mVersion: '1.2',
      binding: 'U',
      queueMode: true,
      smsNumber: '+123',
      rootPath: '/',
      supportedContentFormats: [60, 110, 112, 11542],
      port: dev.address.port,
    });
    expect(e.registration.objects).toEqual(
      expect.arrayContaining([
        { objectId: 3, version: '1.2', instances: [0] },
        { objectId: 3303, instances: [0, 1] },
      ]),
    );
  });

  it('takes an alternate path and a 1.0 binding with queue mode', async () => {
    await register(dev, 'dev-alt', '</lwm2m>;rt="oma.lwm2m", </lwm2m/1/0>, </lwm2m/3/0>', ['lwm2m=1.0', 'b=UQ']);
    const e = await srv.waitForEvent('registered');
    expect(e.registration.rootPath).toBe('/lwm2m');
    expect(e.registration.queueMode).toBe(true);
    expect(e.registration.lifetime).toBe(86400);
  });

  it.each([
    [['lt=60'], 'ep'],
    [['ep=x', 'lt=zero'], 'lt'],
    [['ep=x', 'lt=0'], 'lt'],
    [['ep=x', 'lwm2m=2.0'], 'lwm2m'],
    [['ep=x', 'b=XYZ'], 'b'],
    [['ep=x', 'Q=1'], 'Q'],
    [['ep=x', 'ep=y'], 'repeated'],
  ])('rejects %j with 4.00 naming %s', async (query, word) => {
    const r = await post(dev, ['rd'], query, '</1/0>');
    expect(r.msg.code).toBe(Code.BAD_REQUEST);
    expect(r.msg.payload.toString()).toContain(word);
    expect(srv.events.filter((e) => e.type === 'registered')).toHaveLength(0);
  });

  it('rejects a malformed object list with 4.00', async () => {
    const r = await post(dev, ['rd'], ['ep=x'], '</3/0>;ver=1.1,<garbage');
    expect(r.msg.code).toBe(Code.BAD_REQUEST);
  });

  it('rejects an object list that is not link-format with 4.00', async () => {
    const messageId = mid++;
    const options = [...pathOptions(['rd'], ['ep=x']), uintOption(Opt.CONTENT_FORMAT, 0)];
    dev.send(
      {
        type: MessageType.CON,
        code: Method.POST,
        messageId,
        token: Buffer.from([1]),
        options,
        payload: Buffer.from('</1/0>'),
      },
      srv.address,
    );
    const r = await dev.waitFor((x) => x.msg.messageId === messageId);
    expect(r.msg.code).toBe(Code.BAD_REQUEST);
    expect(r.msg.payload.toString()).toContain('link-format');
  });

  it('accepts a Register body sent in Block1 blocks (RFC 7959 §2.5)', async () => {
    const links = Array.from({ length: 200 }, (_, i) => `</${3300 + (i % 50)}/${i}>`).join(',');
    const body = Buffer.from(links);
    expect(body.length).toBeGreaterThan(1024);
    const size = 512;
    let final: Received | undefined;
    for (let num = 0; num * size < body.length; num++) {
      const more = (num + 1) * size < body.length;
      const messageId = mid++;
      const options = [
        ...pathOptions(['rd'], ['ep=big', 'lwm2m=1.1']),
        uintOption(Opt.CONTENT_FORMAT, 40),
        { number: Opt.BLOCK1, value: encodeBlock({ num, more, szx: 5 }) },
      ];
      dev.send(
        {
          type: MessageType.CON,
          code: Method.POST,
          messageId,
          token: Buffer.from([7]),
          options,
          payload: body.subarray(num * size, (num + 1) * size),
        },
        srv.address,
      );
      const r = await dev.waitFor((x) => x.msg.messageId === messageId);
      if (more) expect(r.msg.code).toBe(Code.CONTINUE);
      else final = r;
    }
    expect(final?.msg.code).toBe(Code.CREATED);
    const e = await srv.waitForEvent('registered', (x) => x.registration.endpoint === 'big');
    expect(e.registration.objects.reduce((n, o) => n + o.instances.length, 0)).toBe(200);
  });
});

describe('Update and De-register (LwM2M-Core 1.2 §6.2.2, §6.2.3)', () => {
  it('updates lifetime and binding, and follows a new source address (NAT rebinding)', async () => {
    const id = await register(dev, 'dev-nat');
    const moved = await ScriptedPeer.open();
    try {
      const r = await post(moved, ['rd', id], ['lt=600', 'b=U']);
      expect(r.msg.code).toBe(Code.CHANGED);
      const e = await srv.waitForEvent('updated');
      expect(e.addressChanged).toBe(true);
      expect(e.after.port).toBe(moved.address.port);
      expect(e.after.lifetime).toBe(600);
      // The next downlink goes to the new address, from the listening socket.
      const reading = srv.server.read('dev-nat', { objectId: 3, instanceId: 0, resourceId: 9 });
      const get = await moved.next();
      expect(get.msg.code).toBe(Method.GET);
      expect(get.from.port).toBe(srv.address.port);
      moved.send(
        {
          type: MessageType.ACK,
          code: Code.CONTENT,
          messageId: get.msg.messageId,
          token: get.msg.token,
          options: [uintOption(Opt.CONTENT_FORMAT, 0)],
          payload: Buffer.from('87'),
        },
        srv.address,
      );
      const res = await reading;
      expect(res.node).toMatchObject({ kind: 'resource', id: 9, value: 87 });
    } finally {
      await moved.close();
    }
  });

  it('answers 4.04 for an unknown location and 4.00 for ep in an Update', async () => {
    expect((await post(dev, ['rd', 'nope'], ['lt=60'])).msg.code).toBe(Code.NOT_FOUND);
    const id = await register(dev, 'dev-u');
    expect((await post(dev, ['rd', id], ['ep=other'])).msg.code).toBe(Code.BAD_REQUEST);
  });

  it('de-registers once; a second DELETE is 4.04', async () => {
    const id = await register(dev, 'dev-d');
    for (const expected of [Code.DELETED, Code.NOT_FOUND]) {
      const messageId = mid++;
      dev.send(
        {
          type: MessageType.CON,
          code: Method.DELETE,
          messageId,
          token: Buffer.from([1]),
          options: pathOptions(['rd', id]),
        },
        srv.address,
      );
      const r = await dev.waitFor((x) => x.msg.messageId === messageId);
      expect(r.msg.code).toBe(expected);
    }
    expect(srv.events.filter((e) => e.type === 'deregistered')).toHaveLength(1);
    expect(await srv.registrations.getByEndpoint('dev-d')).toBeUndefined();
  });

  it('expires a registration after its lifetime, announcing it once', async () => {
    await register(dev, 'dev-exp', '</3/0>', ['lt=1']);
    const e = await srv.waitForEvent('expired', undefined, 5000);
    expect(e.registration.endpoint).toBe('dev-exp');
    await srv.server.expire(Date.now() + 10_000);
    expect(srv.events.filter((x) => x.type === 'expired')).toHaveLength(1);
    expect((await post(dev, ['rd', e.registration.id], [])).msg.code).toBe(Code.NOT_FOUND);
  });

  it('a second Register for the endpoint replaces the first and ends its observations', async () => {
    await register(dev, 'dev-r', '</3303/0>');
    const observing = srv.server.observe('dev-r', { objectId: 3303, instanceId: 0, resourceId: 5700 });
    const get = await dev.waitFor((r) => r.msg.code === Method.GET);
    dev.send(
      {
        type: MessageType.ACK,
        code: Code.CONTENT,
        messageId: get.msg.messageId,
        token: get.msg.token,
        options: [uintOption(Opt.OBSERVE, 1), uintOption(Opt.CONTENT_FORMAT, 0)],
        payload: Buffer.from('21.5'),
      },
      srv.address,
    );
    const obs = await observing;
    expect(obs.observation).toBeDefined();
    const newId = await register(dev, 'dev-r', '</3303/0>');
    const reg = await srv.waitForEvent('registered', (e) => e.registration.id === newId);
    expect(reg.replaced?.endpoint).toBe('dev-r');
    await srv.waitForEvent('observation-ended', (e) => e.reason === 'replaced');
    // A notification on the old token is now rejected with RST (RFC 7641 §3.6).
    const messageId = mid++;
    dev.send(
      {
        type: MessageType.CON,
        code: Code.CONTENT,
        messageId,
        token: get.msg.token,
        options: [uintOption(Opt.OBSERVE, 2), uintOption(Opt.CONTENT_FORMAT, 0)],
        payload: Buffer.from('22'),
      },
      srv.address,
    );
    const rst = await dev.waitFor((r) => r.msg.messageId === messageId);
    expect(rst.msg.type).toBe(MessageType.RST);
  });
});

describe('over IPv6', () => {
  it('registers a device on [::1] and reads from it through the same socket', async () => {
    const v6 = await startTestServer({}, '::1');
    const d6 = await ScriptedPeer.open('::1');
    try {
      const messageId = mid++;
      d6.send(
        {
          type: MessageType.CON,
          code: Method.POST,
          messageId,
          token: Buffer.from([6]),
          options: [...pathOptions(['rd'], ['ep=v6', 'lwm2m=1.1']), uintOption(Opt.CONTENT_FORMAT, 40)],
          payload: Buffer.from('</3/0>'),
        },
        v6.address,
      );
      expect((await d6.waitFor((r) => r.msg.messageId === messageId)).msg.code).toBe(Code.CREATED);
      const e = await v6.waitForEvent('registered');
      expect(e.registration.address).toBe('::1');
      const reading = v6.server.read('v6', { objectId: 3, instanceId: 0, resourceId: 0 });
      const get = await d6.waitFor((r) => r.msg.code === Method.GET);
      expect(get.from).toEqual(v6.address);
      d6.send(
        {
          type: MessageType.ACK,
          code: Code.CONTENT,
          messageId: get.msg.messageId,
          token: get.msg.token,
          options: [uintOption(Opt.CONTENT_FORMAT, 0)],
          payload: Buffer.from('ACME'),
        },
        v6.address,
      );
      expect((await reading).node).toMatchObject({ value: 'ACME' });
    } finally {
      await d6.close();
      await v6.stop();
    }
  });
});
