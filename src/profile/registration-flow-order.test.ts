/**
 * A device hears nothing from the server before its 2.01 Created (LwM2M-Core 1.2 §6.2.1). Two
 * halves make it hold, each pinned here: the server hands the 2.01 to the transport before the
 * macrotask that emitted `registered` ends, and the flow sends no setup request before a later
 * macrotask (setImmediate). Then end to end: the real LwM2mServer with in-memory stores (every
 * store call resolves at once, the fastest path a setup can take) and the flow, on the in-memory
 * datagram pair, which records every datagram the server sends, in the order it sends them.
 */
import { Code, MessageType, Method, Opt, type CoapMessage } from '../coap/message';
import { getOptions, pathOptions, uintOption } from '../coap/options';
import { DEVICE_PEER, MemoryDatagramPair } from '../../test/support/memory-datagram-pair';
import { FakeDevices, RecordingPublisher } from '../../test/support/profile-doubles';
import { registration } from '../../test/support/profile-fixtures';
import { single } from '../lwm2m/node';
import { startTestServer, type TestServer } from '../../test/support/test-server';
import { ProfileRegistry } from './profile-registry';
import { MemoryProvisioningStore, ProfileAssigner } from './provisioning';
import { RegistrationFlow } from './registration-flow';
import { decode } from '../coap/codec';

const PROFILE = {
  name: 'order',
  observeAttr: {
    keyName: { '/3/0/0': 'manufacturer', '/3303/0/5700': 'temperature' },
    attribute: ['/3/0/0'],
    observe: ['/3303/0/5700'],
    attributeLwm2m: { '/3303/0/5700': { pmin: 1, pmax: 10 } },
  },
};

let pair: MemoryDatagramPair;
let srv: TestServer;
let flow: RegistrationFlow;

beforeEach(async () => {
  pair = new MemoryDatagramPair();
  // Short CoAP timeouts: the devices answer nothing, and the setups give up quickly at the end.
  srv = await startTestServer({
    transport: pair.server,
    transmission: { ackTimeoutMs: 50, ackRandomFactor: 1.5, maxRetransmit: 1 },
  });
  const registry = new ProfileRegistry();
  registry.putDocument(PROFILE, 'test');
  flow = new RegistrationFlow({
    server: srv.server,
    registry,
    assigner: new ProfileAssigner({
      store: new MemoryProvisioningStore(),
      rules: [{ pattern: 'dev-*', profile: 'order' }],
    }),
    publisher: new RecordingPublisher(),
    onFailure: () => undefined,
  });
  flow.start();
});
afterEach(async () => {
  await srv.stop();
  await pair.close();
  await flow.stop();
});

function registerFrom(ep: string, port: number, messageId: number): void {
  pair.sendCoap(
    {
      type: MessageType.CON,
      code: Method.POST,
      messageId,
      token: Buffer.from([messageId & 0xff]),
      options: [...pathOptions(['rd'], [`ep=${ep}`, 'lt=300', 'lwm2m=1.0']), uintOption(Opt.CONTENT_FORMAT, 40)],
      payload: Buffer.from('</1/0>,</3/0>,</3303/0>'),
    },
    { address: DEVICE_PEER.address, port },
  );
}

describe('setup after the 2.01 Created', () => {
  it('the server has sent the 2.01 by the time a setImmediate queued from the registered event runs', async () => {
    const seen: Array<{ port: number; createdSent: boolean }> = [];
    srv.server.events.on((e) => {
      if (e.type !== 'registered') return;
      setImmediate(() => {
        const port = e.registration.port;
        const createdSent = pair.log.some(
          (d) =>
            d.peer.port === port && decode(d.data)?.code === Code.CREATED && decode(d.data)?.type === MessageType.ACK,
        );
        seen.push({ port, createdSent });
      });
    });
    for (let i = 0; i < 5; i++) registerFrom(`other-${i}`, 41000 + i, 200 + i);
    const until = Date.now() + 2000;
    while (seen.length < 5 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toHaveLength(5);
    expect(seen.filter((s) => !s.createdSent)).toEqual([]);
  });

  it('the flow sends no setup request in the macrotask of the registered event, even when every call resolves at once', async () => {
    const fake = new FakeDevices(new Map([['/3/0/0', single(0, 'STRING', 'ACME')]]));
    const registry = new ProfileRegistry();
    registry.putDocument(PROFILE, 'test');
    const own = new RegistrationFlow({
      server: fake,
      registry,
      assigner: new ProfileAssigner({
        store: new MemoryProvisioningStore(),
        rules: [{ pattern: 'dev-*', profile: 'order' }],
      }),
      publisher: new RecordingPublisher(),
      onFailure: () => undefined,
    });
    own.start();
    try {
      fake.register(registration());
      for (let i = 0; i < 1000; i++) await Promise.resolve(); // every microtask chain runs out
      expect(fake.calls).toEqual([]);
      await own.idle();
      expect(fake.calls[0]).toBe('read /3/0/0');
    } finally {
      await own.stop();
    }
  });

  it('sends each device its first setup request only after its 2.01, even with stores that answer at once', async () => {
    const devices = 20;
    for (let i = 0; i < devices; i++) registerFrom(`dev-${i}`, 40000 + i, 100 + i);
    // Each device answers nothing: its setup's first request stays outstanding (NSTART = 1).
    const until = Date.now() + 5000;
    const requestsOf = (port: number): number =>
      pair.log.filter((d) => d.peer.port === port && decode(d.data)?.type === MessageType.CON).length;
    while (Date.now() < until && [...Array(devices).keys()].some((i) => requestsOf(40000 + i) === 0))
      await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < devices; i++) {
      const sent = pair.log.filter((d) => d.peer.port === 40000 + i).map((d) => decode(d.data) as CoapMessage);
      // What this device was sent, in order: its 2.01 (piggybacked), then the setup's first request.
      expect(sent.slice(0, 2).map((m) => [m.type, m.code])).toEqual([
        [MessageType.ACK, Code.CREATED],
        [MessageType.CON, Method.GET],
      ]);
      expect(getOptions(sent[1] as CoapMessage, Opt.URI_PATH).map(String)).toEqual(['3', '0', '0']);
      // Unanswered, it is only retransmitted (same Message ID): no second request meanwhile (NSTART = 1).
      expect(new Set(sent.slice(1).map((m) => m.messageId)).size).toBe(1);
    }
  });
});
