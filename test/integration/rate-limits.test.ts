/**
 * The limits of DESIGN invariant 5 on the real bridge process (real Redis and Kafka, real UDP
 * sockets on port 0, each simulated source on its own loopback address of 127/8):
 * - a source flooding valid-looking requests is cut to its rate (RATE_LIMIT_SOURCE_*) while
 *   another source registers and updates as usual;
 * - a source over its request rate (RATE_LIMIT_SOURCE_REQUESTS_*), and an endpoint over its own,
 *   gets 5.03 with Max-Age for CON, nothing for NON;
 * - oversized messages (4.13 with Size1) and too many options (4.00) are refused as documented;
 * - everything refused is counted by reason in lwm2m_limited_total.
 * Twice: the plain socket on the main thread (UDP_SOCKET_THREAD=coaps, the source rate applied
 * there) and on its own thread (all: the source rate applied on that thread).
 */
import { randomUUID } from 'node:crypto';
import { Code, MessageType, Method, Opt, type CoapOption } from '../../src/coap/message';
import { getUintOption, pathOptions } from '../../src/coap/options';
import type { Peer } from '../../src/transport/types';
import { bridgeMetric, realInfraEnv, startBridgeProcess, type BridgeProcess } from '../support/bridge-process';
import { ScriptedPeer, type Received } from '../support/scripted-peer';
import { until } from '../support/until';

const run = randomUUID().slice(0, 8);
let bridge: BridgeProcess;
let server: Peer;
const peers: ScriptedPeer[] = [];

const SOURCE_PER_S = 20;
const SOURCE_BURST = 40;

describe.each(['coaps', 'all'])('UDP_SOCKET_THREAD=%s', (socketThread) => {
  beforeAll(async () => {
    bridge = await startBridgeProcess(
      realInfraEnv(`limits-${run}-${socketThread}`, `limits-${run}-${socketThread}.`, {
        UDP_SOCKET_THREAD: socketThread,
        COAPS_PORT: '-1',
        RATE_LIMIT_SOURCE_PER_S: String(SOURCE_PER_S),
        RATE_LIMIT_SOURCE_BURST: String(SOURCE_BURST),
        RATE_LIMIT_SOURCE_REQUESTS_PER_S: '5',
        RATE_LIMIT_SOURCE_REQUESTS_BURST: '10',
        RATE_LIMIT_ENDPOINT_PER_S: '0.5',
        RATE_LIMIT_ENDPOINT_BURST: '3',
        COAP_MAX_MESSAGE_BYTES: '512',
        COAP_MAX_OPTIONS: '16',
      }),
    );
    server = { address: '127.0.0.1', port: bridge.coapPort };
  }, 60_000);

  afterAll(async () => {
    for (const p of peers.splice(0)) await p.close();
    await bridge?.kill();
  });

  async function peerOn(address: string): Promise<ScriptedPeer> {
    const p = await ScriptedPeer.open(address);
    peers.push(p);
    return p;
  }

  let mid = 0x2000;
  const register = (ep: string, type = MessageType.CON) => ({
    type,
    code: Method.POST,
    messageId: mid++,
    token: Buffer.from(randomUUID().slice(0, 8)),
    options: pathOptions(['rd'], [`ep=${ep}`, 'lt=300', 'lwm2m=1.1', 'b=U']),
    payload: Buffer.from('</1/0>,</3/0>'),
  });

  /** Sends a CON and waits for the answer with its Message ID. */
  async function exchange(peer: ScriptedPeer, msg: ReturnType<typeof register>): Promise<Received> {
    peer.send(msg, server);
    return peer.waitFor((r) => r.msg.messageId === msg.messageId, 5000);
  }

  const limited = (reason: string) => bridgeMetric(bridge, `lwm2m_limited_total{reason="${reason}"}`);

  it('cuts a flooding source to its rate while another source registers and updates as usual', async () => {
    const flooder = await peerOn('127.0.0.2');
    const device = await peerOn('127.0.0.3');
    const started = performance.now();
    const FLOOD = 3000;
    // Valid-looking Updates of made-up registrations: each one admitted costs a Redis lookup (4.04).
    const flood = (async () => {
      for (let i = 0; i < FLOOD; i++) {
        flooder.send(
          {
            type: MessageType.CON,
            code: Method.POST,
            messageId: i,
            token: Buffer.alloc(4, i),
            options: pathOptions(['rd', `fake-${i}`]),
          },
          server,
        );
        if (i % 100 === 99) await new Promise((r) => setImmediate(r));
      }
    })();
    const registered = await exchange(device, register(`legit-${run}`));
    await flood;
    expect(registered.msg.code).toBe(Code.CREATED);
    const location = registered.msg.options
      .filter((o) => o.number === Opt.LOCATION_PATH)
      .map((o) => o.value.toString());
    const update = await exchange(device, {
      ...register('x'),
      options: pathOptions(location),
      payload: Buffer.alloc(0),
    });
    expect(update.msg.code).toBe(Code.CHANGED);
    // Everything the flooder could be answered has been: a CoAP ping (answered RST) is over its rate too,
    // so wait until the answers stop coming instead.
    let answered = 0;
    for (;;) {
      try {
        await flooder.next(500);
        answered++;
      } catch {
        break;
      }
    }
    const elapsedS = (performance.now() - started) / 1000;
    expect(answered).toBeGreaterThanOrEqual(SOURCE_BURST - 1);
    expect(answered).toBeLessThanOrEqual(SOURCE_BURST + Math.ceil(SOURCE_PER_S * elapsedS) + 1);
    // Drops on a socket thread are reported to the main thread once a second.
    const floor = FLOOD - answered - SOURCE_PER_S;
    await until('source-rate drops counted', async () => ((await limited('source-rate')) >= floor ? true : undefined));
  }, 30_000);

  it('answers requests of one source address over its request rate 5.03 with Max-Age, before any store access', async () => {
    const device = await peerOn('127.0.0.6');
    const before = await limited('source-request-rate'); // the flood above counted some too
    const codes: number[] = [];
    let last: Received | undefined;
    for (let i = 0; i < 14; i++) {
      // Updates of made-up registrations: each its own endpoint key, so only the source's rate applies.
      last = await exchange(device, {
        ...register('x'),
        options: pathOptions(['rd', `made-up-${i}`]),
        payload: Buffer.alloc(0),
      });
      codes.push(last.msg.code);
    }
    expect(codes).toEqual([
      ...Array<number>(10).fill(Code.NOT_FOUND),
      ...Array<number>(4).fill(Code.SERVICE_UNAVAILABLE),
    ]);
    expect(last && getUintOption(last.msg, Opt.MAX_AGE)).toBe(1); // one token every 200 ms
    expect(await limited('source-request-rate')).toBe(before + 4);
  }, 30_000);

  it('answers a CON Register over its endpoint rate 5.03 with Max-Age, and drops a NON one', async () => {
    const device = await peerOn('127.0.0.4');
    const ep = `busy-${run}`;
    const codes: number[] = [];
    let last: Received | undefined;
    for (let i = 0; i < 5; i++) {
      last = await exchange(device, register(ep));
      codes.push(last.msg.code);
    }
    expect(codes).toEqual([
      Code.CREATED,
      Code.CREATED,
      Code.CREATED,
      Code.SERVICE_UNAVAILABLE,
      Code.SERVICE_UNAVAILABLE,
    ]);
    expect(last && getUintOption(last.msg, Opt.MAX_AGE)).toBe(2); // one token every 2 s at 0.5/s
    const before = await limited('endpoint-rate');
    expect(before).toBeGreaterThanOrEqual(2);
    device.send(register(ep, MessageType.NON), server);
    // Another endpoint's CON after it: its answer comes after anything the NON could have caused.
    const other = await exchange(device, register(`other-${run}`));
    expect(other.msg.code).toBe(Code.CREATED);
    expect(device.pending).toBe(0);
    expect(await limited('endpoint-rate')).toBe(before + 1);
  }, 30_000);

  it('answers an oversized CON request 4.13 with Size1 and one with too many options 4.00; counts both', async () => {
    const device = await peerOn('127.0.0.5');
    const tooLarge = await exchange(device, { ...register(`big-${run}`), payload: Buffer.alloc(600, 0x2c) });
    expect(tooLarge.msg).toMatchObject({ type: MessageType.ACK, code: Code.REQUEST_ENTITY_TOO_LARGE });
    expect(getUintOption(tooLarge.msg, Opt.SIZE1)).toBe(512);
    const options: CoapOption[] = [
      ...pathOptions(['rd']),
      ...Array.from({ length: 16 }, (_, i) => ({ number: Opt.URI_QUERY, value: Buffer.from(`q${i}=1`) })),
    ];
    const tooMany = await exchange(device, { ...register(`opts-${run}`), options });
    expect(tooMany.msg).toMatchObject({ type: MessageType.ACK, code: Code.BAD_REQUEST });
    expect(tooMany.msg.payload.toString()).toBe('more than 16 options');
    // A NON too large gets nothing: the CON after it is the next thing answered.
    device.send({ ...register(`big2-${run}`, MessageType.NON), payload: Buffer.alloc(600) }, server);
    expect((await exchange(device, register(`fine-${run}`))).msg.code).toBe(Code.CREATED);
    expect(device.pending).toBe(0);
    expect(await limited('message-too-large')).toBe(2);
    expect(await limited('too-many-options')).toBe(1);
  }, 30_000);
});
