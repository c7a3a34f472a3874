/**
 * An in-process LwM2mServer on 127.0.0.1 port 0 with the built-in models and every codec,
 * recording its events for assertions.
 */
import { createDefaultCodecs } from '../../src/lwm2m/codec/default-codecs';
import { createBuiltinRegistry } from '../../src/lwm2m/model/builtin';
import type { ServerEvent } from '../../src/server/events';
import { LwM2mServer, type LwM2mServerOptions } from '../../src/server/lwm2m-server';
import { MemoryRegistrationStore } from '../../src/server/registration/memory-registration-store';
import { MemoryObservationStore } from '../../src/server/observation/observation-store';
import { UdpTransport } from '../../src/transport/udp';
import type { Peer } from '../../src/transport/types';

export interface TestServer {
  readonly server: LwM2mServer;
  readonly address: Peer;
  readonly events: ServerEvent[];
  readonly registrations: MemoryRegistrationStore;
  readonly observations: MemoryObservationStore;
  /** Resolves with the first event (already seen or future) matching the predicate. */
  waitForEvent<T extends ServerEvent['type']>(
    type: T,
    pred?: (e: Extract<ServerEvent, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<ServerEvent, { type: T }>>;
  stop(): Promise<void>;
}

export async function startTestServer(
  overrides: Partial<LwM2mServerOptions> = {},
  host = '127.0.0.1',
): Promise<TestServer> {
  const transport = overrides.transport ?? (await UdpTransport.bind({ host, port: 0 }));
  const registrations = new MemoryRegistrationStore();
  const observations = new MemoryObservationStore();
  const server = new LwM2mServer({
    transport,
    registrations,
    observations,
    codecs: createDefaultCodecs(),
    model: createBuiltinRegistry(),
    transmission: { ackTimeoutMs: 200, ackRandomFactor: 1.5, maxRetransmit: 3 },
    maxPeers: 10_000,
    blockSzx: 6,
    maxBodyBytes: 64 * 1024,
    maxReassemblies: 100,
    maxReassemblyBytes: 1024 * 1024,
    requestTimeoutMs: 10_000,
    expiryGraceMs: 0,
    expirySweepMs: 50,
    ...overrides,
  });
  const events: ServerEvent[] = [];
  const waiters: Array<() => void> = [];
  server.events.on((e) => {
    events.push(e);
    for (const w of [...waiters]) w();
  });
  server.start();
  return {
    server,
    address: { address: host, port: transport.local().port },
    events,
    registrations,
    observations,
    waitForEvent(type, pred, timeoutMs = 10_000) {
      type E = Extract<ServerEvent, { type: typeof type }>;
      const find = (): E | undefined =>
        events.find((e): e is E => e.type === type && (pred === undefined || pred(e as never)));
      const found = find();
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`no ${type} event within ${timeoutMs} ms; saw: ${events.map((e) => e.type).join(', ')}`)),
          timeoutMs,
        );
        const check = (): void => {
          const e = find();
          if (e === undefined) return;
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check), 1);
          resolve(e);
        };
        waiters.push(check);
      });
    },
    stop: () => server.stop(),
  };
}
