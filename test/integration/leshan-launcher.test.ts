/**
 * Smoke test of the Leshan client harness, independent of our server: a bare UDP socket plays the
 * LwM2M server just far enough (RFC 7252 §3 header, hand-decoded) to see Register and De-register.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { join } from 'node:path';
import { startLeshanClient, stopAllLeshanClients } from '../support/leshan-client';
import { MissingTestDependencyError, REPO_ROOT } from '../support/test-deps';

interface Datagram {
  readonly bytes: Buffer;
  readonly from: RemoteInfo;
}

const POST = 0x02;
const DELETE = 0x04;
const CREATED = 0x41; // 2.01
const DELETED = 0x42; // 2.02
const LOCATION_PATH = 8;

/** The next datagram matching `accept`; listen before triggering what sends it. */
function nextDatagram(socket: Socket, accept: (bytes: Buffer) => boolean, timeoutMs = 20_000): Promise<Datagram> {
  return new Promise((resolve, reject) => {
    const onMessage = (bytes: Buffer, from: RemoteInfo): void => {
      if (!accept(bytes)) return;
      cleanup();
      resolve({ bytes, from });
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no matching datagram within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('message', onMessage);
    };
    socket.on('message', onMessage);
  });
}

/** RFC 7252 §3: Ver(2) T(2) TKL(4) | Code | Message ID | Token. */
function header(bytes: Buffer): { version: number; type: number; code: number; messageId: number; token: Buffer } {
  const tokenLength = bytes[0] & 0x0f;
  return {
    version: bytes[0] >> 6,
    type: (bytes[0] >> 4) & 0x03,
    code: bytes[1],
    messageId: bytes.readUInt16BE(2),
    token: bytes.subarray(4, 4 + tokenLength),
  };
}

/** A piggybacked ACK response (RFC 7252 §5.2.1) with Location-Path options of under 13 bytes each. */
function ackResponse(request: Buffer, code: number, locationPath: readonly string[] = []): Buffer {
  const { messageId, token } = header(request);
  const fixed = Buffer.from([0x60 | token.length, code, messageId >> 8, messageId & 0xff]);
  const options = locationPath.map((segment, i) => {
    const value = Buffer.from(segment);
    return Buffer.concat([Buffer.from([((i === 0 ? LOCATION_PATH : 0) << 4) | value.length]), value]);
  });
  return Buffer.concat([fixed, token, ...options]);
}

describe('Leshan client launcher (harness smoke test)', () => {
  let socket: Socket;

  beforeEach(async () => {
    socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
  });

  afterEach(async () => {
    await stopAllLeshanClients();
    socket.close();
  });

  it('registers with a CoAP POST /rd?ep=<endpoint>, then de-registers on command', async () => {
    const endpoint = `leshan-smoke-${process.pid}`;
    const register = nextDatagram(socket, (b) => b[1] === POST);
    const client = await startLeshanClient({ serverPort: socket.address().port, endpoint, lifetime: 120 });

    const { bytes, from } = await register;
    const h = header(bytes);
    expect(h.version).toBe(1);
    expect(h.type).toBe(0); // Confirmable
    const text = bytes.toString('latin1');
    expect(text).toContain('rd');
    expect(text).toContain(`ep=${endpoint}`);
    expect(text).toContain('lt=120');
    expect(text).toContain('</3/0>'); // Device instance announced in the CoRE Link Format payload

    socket.send(ackResponse(bytes, CREATED, ['rd', 'smoke1']), from.port, from.address);
    await expect(client.waitFor(/^REGISTERED /)).resolves.toBe('REGISTERED /rd/smoke1');

    const deregister = nextDatagram(socket, (b) => b[1] === DELETE);
    client.send('deregister');
    const del = await deregister;
    expect(del.bytes.toString('latin1')).toContain('smoke1');
    socket.send(ackResponse(del.bytes, DELETED), del.from.port, del.from.address);
    await client.waitFor(/^DEREGISTERED$/);
    await client.waitFor(/^STOPPED$/);
  });

  it('runs the Leshan 1.x launcher for LwM2M 1.0: its Register says lwm2m=1.0', async () => {
    const register = nextDatagram(socket, (b) => b[1] === POST);
    const client = await startLeshanClient({ serverPort: socket.address().port, endpoint: 'v10', lwm2mVersion: '1.0' });
    const { bytes, from } = await register;
    const text = bytes.toString('latin1');
    expect(text).toContain('ep=v10');
    expect(text).toContain('lwm2m=1.0');
    expect(text).toContain('</3/0>');
    socket.send(ackResponse(bytes, CREATED, ['rd', 'v10reg']), from.port, from.address);
    await expect(client.waitFor(/^REGISTERED /)).resolves.toBe('REGISTERED /rd/v10reg');
    client.send('send /3/0/9'); // LwM2M 1.0 has no Send
    await expect(client.waitFor(/^SENT /)).resolves.toMatch(/^SENT error unsupported/);
  });

  it('refuses, before starting anything, the options a LwM2M 1.0 client cannot honour', async () => {
    const port = socket.address().port;
    await expect(
      startLeshanClient({ serverPort: port, endpoint: 'v10', lwm2mVersion: '1.0', formats: ['tlv', 'senml-cbor'] }),
    ).rejects.toThrow(
      /as LwM2M 1\.0 cannot take: formats senml-cbor \(LwM2M 1\.0 knows only tlv, json, text, opaque, link\)/,
    );
    await expect(
      startLeshanClient({
        serverPort: port,
        endpoint: 'v10',
        lwm2mVersion: '1.0',
        sendFormat: 'senml-json',
        cidLength: 4,
      }),
    ).rejects.toThrow(/sendFormat \(LwM2M 1\.0 has no Send operation\); cidLength/);
  });

  it('fails, naming the jar, when the 1.x launcher is not built', async () => {
    const jarPath = join(REPO_ROOT, 'test', 'interop', 'leshan1-client', 'target', 'no-such.jar');
    const start = startLeshanClient({
      serverPort: socket.address().port,
      endpoint: 'nojar',
      lwm2mVersion: '1.0',
      jarPath,
    });
    await expect(start).rejects.toThrow(MissingTestDependencyError);
    await expect(start).rejects.toThrow(/Leshan 1\.x launcher jar .*no-such\.jar/);
  });

  it('fails, naming the jar, when the launcher is not built', async () => {
    const jarPath = join(REPO_ROOT, 'test', 'interop', 'leshan-client', 'target', 'no-such.jar');
    const start = startLeshanClient({ serverPort: socket.address().port, endpoint: 'nojar', jarPath });
    await expect(start).rejects.toThrow(MissingTestDependencyError);
    await expect(start).rejects.toThrow(/no-such\.jar/);
  });
});
