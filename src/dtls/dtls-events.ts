/**
 * What the DTLS engine reports (metrics and logs are made from these, src/observability/
 * dtls-metrics.ts). No event carries a key or a master secret: they never leave the engine.
 */
import type { Peer, PeerIdentity } from '../transport/types';
import type { Established } from './server-handshake';

export type DtlsEvent =
  | { readonly type: 'handshake-done'; readonly peer: Peer; readonly session: SessionSummary }
  | { readonly type: 'handshake-failed'; readonly peer: Peer; readonly alert: string; readonly reason: string }
  | { readonly type: 'dropped'; readonly peer: Peer; readonly kind: DropKind; readonly reason: string }
  | { readonly type: 'closed'; readonly peer: Peer; readonly endpoint: string }
  | { readonly type: 'continued'; readonly peer: Peer; readonly session: SessionSummary }
  | { readonly type: 'store-failed'; readonly peer: Peer; readonly reason: string };

/** What an event may say about a session: no key, no master secret (they never leave the engine). */
export interface SessionSummary {
  readonly suite: string;
  readonly identity: PeerIdentity;
  readonly extendedMasterSecret: boolean;
  /** An abbreviated handshake resumed a stored session. */
  readonly resumed: boolean;
  /** Lengths of the connection IDs: issued by this server, and the client's own (RFC 9146). */
  readonly ownCidLength?: number;
  readonly peerCidLength?: number;
}

export function summarize(p: Established): SessionSummary {
  return {
    suite: p.suite.name,
    identity: p.identity,
    extendedMasterSecret: p.extendedMasterSecret,
    resumed: p.resumed,
    ...(p.ownCid !== undefined ? { ownCidLength: p.ownCid.length } : {}),
    ...(p.peerCid !== undefined ? { peerCidLength: p.peerCid.length } : {}),
  };
}

/** Why a record was dropped, as a bounded set (a metric label); `reason` says more. */
export type DropKind = 'malformed' | 'unauthentic' | 'no-connection' | 'unexpected' | 'overload' | 'rate-limited';
