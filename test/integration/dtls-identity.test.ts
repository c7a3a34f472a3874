/**
 * Over DTLS a device acts only as its own endpoint, notifications included: two devices with
 * their own PSK identities (scripted CoAP over the scripted DTLS client, on real UDP sockets),
 * one observed; a notification for that observation sent by the other device is refused (RST,
 * a `rejected` event), while the observed device's own notification is taken.
 */
import { createSocket, type Socket } from 'node:dgram';
import { decode, encode } from '../../src/coap/codec';
import { Code, Method, MessageType, Opt, type CoapMessage } from '../../src/coap/message';
import { pathOptions, uintOption } from '../../src/coap/options';
import { parsePath } from '../../src/lwm2m/path';
import { DtlsTransport } from '../../src/dtls/dtls-transport';
import { handshakeOver, ScriptedPskClient } from '../support/dtls-psk-client';
import { startTestServer, type TestServer } from '../support/test-server';
import { until } from '../support/until';

const KEYS: Record<string, { key: Buffer; endpoint: string }> = {
  'id-a': { key: Buffer.alloc(16, 0xa), endpoint: 'ep-a' },
  'id-b': { key: Buffer.alloc(16, 0xb), endpoint: 'ep-b' },
};

interface Device {
  readonly client: ScriptedPskClient;
  readonly socket: Socket;
  /** CoAP messages received, decoded. */
  readonly inbox: CoapMessage[];
  send(m: CoapMessage): void;
}

let srv: TestServer;
let transport: DtlsTransport;
const devices: Device[] = [];

async function device(
  identity: string,
  port: number,
  answer: (m: CoapMessage) => CoapMessage | undefined,
): Promise<Device> {
  const { key } = KEYS[identity] as { key: Buffer };
  const client = new ScriptedPskClient({ identity, key });
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) =>
    socket.bind(0, '127.0.0.1', () => socket.connect(port, '127.0.0.1', () => resolve())),
  );
  const inbox: CoapMessage[] = [];
  const d: Device = { client, socket, inbox, send: (m) => socket.send(client.seal(encode(m))) };
  await handshakeOver(client, socket, (out) => socket.send(out));
  socket.on('message', (buf) => {
    for (const plain of client.unseal(buf)) {
      const m = decode(plain);
      if (m === null) continue;
      inbox.push(m);
      const reply = answer(m);
      if (reply !== undefined) d.send(reply);
    }
  });
  devices.push(d);
  return d;
}

/** Answers the server's Observe with 2.05, Observe 1 and a text value. */
const observed = (m: CoapMessage): CoapMessage | undefined =>
  m.code === Method.GET && m.type === MessageType.CON
    ? {
        type: MessageType.ACK,
        code: Code.CONTENT,
        messageId: m.messageId,
        token: m.token,
        options: [uintOption(Opt.OBSERVE, 1), uintOption(Opt.CONTENT_FORMAT, 0)],
        payload: Buffer.from('21'),
      }
    : undefined;

beforeAll(async () => {
  transport = await DtlsTransport.bind({ host: '127.0.0.1', port: 0, credentials: { psk: async (id) => KEYS[id] } });
  srv = await startTestServer({ transport });
});
afterAll(async () => {
  for (const d of devices) d.socket.close();
  await srv.stop();
});

it("refuses a notification for device B sent by device A (RST, rejected event), and takes B's own", async () => {
  const port = transport.local().port;
  const register = (ep: string, mid: number): CoapMessage => ({
    type: MessageType.CON,
    code: Method.POST,
    messageId: mid,
    token: Buffer.from([mid]),
    options: [...pathOptions(['rd'], [`ep=${ep}`, 'lt=300', 'lwm2m=1.1']), uintOption(Opt.CONTENT_FORMAT, 40)],
    payload: Buffer.from('</3/0>,</3303/0>'),
  });
  const a = await device('id-a', port, () => undefined);
  const b = await device('id-b', port, observed);
  a.send(register('ep-a', 1));
  b.send(register('ep-b', 2));
  await until('both registered', () =>
    a.inbox.some((m) => m.code === Code.CREATED) && b.inbox.some((m) => m.code === Code.CREATED) ? true : undefined,
  );
  const o = await srv.server.observe('ep-b', parsePath('/3303/0/5700'), { format: 0 });
  expect(o.result).toBe('CONTENT');
  const token = Buffer.from(o.observation?.token as string, 'hex');
  const notification = (mid: number, seq: number, value: string): CoapMessage => ({
    type: MessageType.CON,
    code: Code.CONTENT,
    messageId: mid,
    token,
    options: [uintOption(Opt.OBSERVE, seq), uintOption(Opt.CONTENT_FORMAT, 0)],
    payload: Buffer.from(value),
  });

  a.send(notification(500, 9, '99'));
  const rst = await until('A gets a RST', () => a.inbox.find((m) => m.type === MessageType.RST && m.messageId === 500));
  expect(rst.code).toBe(Code.EMPTY);
  const rejected = await srv.waitForEvent('rejected', (e) => e.operation === 'notification');
  expect(rejected.reason).toContain('bound to endpoint "ep-a", not "ep-b"');

  b.send(notification(501, 2, '22'));
  await until('B gets its ACK', () => b.inbox.find((m) => m.type === MessageType.ACK && m.messageId === 501));
  const n = await srv.waitForEvent('notification', (e) => e.observation.token === o.observation?.token);
  const value = n.nodes.get('/3303/0/5700');
  expect(value?.kind === 'resource' ? value.value : undefined).toBe(22);
  expect(srv.events.filter((e) => e.type === 'notification').length).toBe(1);
});
