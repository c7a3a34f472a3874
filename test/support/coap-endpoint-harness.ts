/**
 * The harness of the CoAP endpoint's socket-free tests (src/coap/endpoint-*.test.ts): a CoapEndpoint
 * on the in-memory datagram pair, the drops it reports, and jest's fake clock for its timers (the
 * pair delivers on the real one). `useEndpointHarness()` registers the per-test setup and teardown.
 */
import { CoapEndpoint, type InboundRequest, type Responder } from '../../src/coap/endpoint';
import { MessageType, Method, type CoapMessage } from '../../src/coap/message';
import { pathOptions } from '../../src/coap/options';
import type { DropReason } from '../../src/coap/stats';
import type { Peer } from '../../src/transport/types';
import { MemoryDatagramPair } from './memory-datagram-pair';
import { FAST } from './scripted-peer';

export const TOKEN = Buffer.from('a1b2c3d4', 'hex');
export const OTHER_PEER: Peer = { address: '203.0.113.20', port: 40000 };

export interface EndpointHarness {
  readonly pair: MemoryDatagramPair;
  /** The endpoint under test, once open() made it. */
  readonly ep: CoapEndpoint | undefined;
  readonly drops: ReadonlyArray<{ reason: DropReason; peer: string; detail: string }>;
  /** The endpoint under test; with `fakeClock`, its timers (ticker, retransmissions) run on jest's clock. */
  open(opts?: {
    fakeClock?: boolean;
    separateResponseDelayMs?: number;
    separateResponseTimeoutMs?: number;
    /** NSTART (RFC 7252 §4.7; default 1). */
    nstart?: number;
  }): CoapEndpoint;
  /** Advances the fake clock and lets what it triggered reach the device. */
  advance(ms: number): Promise<void>;
}

export function useEndpointHarness(): EndpointHarness {
  let pair: MemoryDatagramPair;
  let ep: CoapEndpoint | undefined;
  let drops: Array<{ reason: DropReason; peer: string; detail: string }> = [];
  beforeEach(() => {
    pair = new MemoryDatagramPair();
    ep = undefined;
    drops = [];
  });
  afterEach(async () => {
    await ep?.close();
    await pair.close();
    jest.useRealTimers();
    jest.restoreAllMocks();
  });
  return {
    get pair() {
      return pair;
    },
    get ep() {
      return ep;
    },
    get drops() {
      return drops;
    },
    open(opts = {}) {
      if (opts.fakeClock === true) jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] });
      ep = new CoapEndpoint({
        transport: pair.server,
        params: opts.nstart !== undefined ? { ...FAST, nstart: opts.nstart } : FAST,
        separateResponseDelayMs: opts.separateResponseDelayMs ?? 10_000,
        ...(opts.separateResponseTimeoutMs !== undefined
          ? { separateResponseTimeoutMs: opts.separateResponseTimeoutMs }
          : {}),
        events: { onDrop: (reason, peer, detail) => void drops.push({ reason, peer, detail }) },
      });
      return ep;
    },
    async advance(ms) {
      jest.advanceTimersByTime(ms);
      await pair.settle();
    },
  };
}

/** A request handler that records requests and keeps their responders for the test to answer. */
export function holdingHandler(endpoint: CoapEndpoint): { requests: InboundRequest[]; responders: Responder[] } {
  const requests: InboundRequest[] = [];
  const responders: Responder[] = [];
  endpoint.setRequestHandler((req, respond) => {
    requests.push(req);
    responders.push(respond);
  });
  return { requests, responders };
}

/** A CON GET /temperature with TOKEN. */
export const get = (
  messageId: number,
  extra: Partial<CoapMessage> = {},
): Partial<CoapMessage> & Pick<CoapMessage, 'type' | 'code'> => ({
  type: MessageType.CON,
  code: Method.GET,
  messageId,
  token: TOKEN,
  options: pathOptions(['temperature']),
  ...extra,
});
