/**
 * How bridge instances hand RPC work to each other (docs/rpc-routing.md): "drain endpoint E"
 * to the instance that reaches E, and a finished response to the instance whose HTTP caller
 * waits for it. Delivery is at most once: a lost "drain" costs latency (the device's next uplink
 * or the sweep drains), a lost response costs the HTTP caller a 504 (the response is on Kafka).
 * In Redis: src/store/redis-peers.ts; in one process: LocalPeers.
 */
import type { RpcResponseRecord } from '../contract/rpc-records';

export type PeerMessage =
  | { readonly kind: 'drain'; readonly endpoint: string }
  | { readonly kind: 'response'; readonly response: RpcResponseRecord };

export interface RpcPeers {
  /** This instance's id. */
  readonly self: string;
  /** Whether the instance runs (its heartbeat is fresh). */
  alive(instance: string): Promise<boolean>;
  /** Sends to one instance; false when nobody received it (the instance is gone). */
  send(instance: string, message: PeerMessage): Promise<boolean>;
  onMessage(handler: (message: PeerMessage) => void): void;
  close(): Promise<void>;
}

/** Embedded mode: one instance, which is every owner. */
export class LocalPeers implements RpcPeers {
  private handler: ((message: PeerMessage) => void) | undefined;

  constructor(readonly self: string) {}

  async alive(instance: string): Promise<boolean> {
    return instance === this.self;
  }

  async send(instance: string, message: PeerMessage): Promise<boolean> {
    if (instance !== this.self || this.handler === undefined) return false;
    this.handler(message);
    return true;
  }

  onMessage(handler: (message: PeerMessage) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.handler = undefined;
  }
}

/** The message, or undefined when it is not one (a newer version's kind, or garbage). */
export function parsePeerMessage(text: string): PeerMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as { kind?: unknown; endpoint?: unknown; response?: unknown };
  if (m.kind === 'drain' && typeof m.endpoint === 'string') return { kind: 'drain', endpoint: m.endpoint };
  if (
    m.kind === 'response' &&
    typeof m.response === 'object' &&
    m.response !== null &&
    typeof (m.response as { id?: unknown }).id === 'string'
  ) {
    return { kind: 'response', response: m.response as RpcResponseRecord };
  }
  return undefined;
}
