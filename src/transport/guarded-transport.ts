/**
 * A per-source-address rate limit where datagrams arrive, before any parsing, DTLS crypto or
 * store access (DESIGN invariant 5). A datagram over its source's rate is dropped without an
 * answer: at this point nothing says the source address is genuine, and an answer to a spoofed
 * one would be reflected at a victim. Sources are keyed by address alone (not port), so that a
 * flooder cannot open a new budget per port; IPv4-mapped IPv6 addresses count as their IPv4 form.
 */
import type { LimitCounters } from './limit-counters';
import type { TokenBuckets } from './token-buckets';
import { displayAddress, type DatagramHandler, type DatagramTransport, type Peer } from './types';

export class SourceGuard {
  constructor(
    private readonly buckets: TokenBuckets,
    private readonly counters: LimitCounters,
  ) {}

  /** True when the datagram may be processed; false (counted) when its source is over its rate. */
  admit(peer: Peer): boolean {
    if (this.buckets.take(displayAddress(peer.address))) return true;
    this.counters.count('source-rate');
    return false;
  }

  get sources(): number {
    return this.buckets.size;
  }
}

/** A transport whose received datagrams pass a SourceGuard first. */
export class GuardedTransport implements DatagramTransport {
  constructor(
    private readonly inner: DatagramTransport,
    private readonly guard: SourceGuard,
  ) {}

  send(data: Buffer, peer: Peer): void {
    this.inner.send(data, peer);
  }

  onDatagram(handler: DatagramHandler): void {
    this.inner.onDatagram((data, peer, identity) => {
      if (this.guard.admit(peer)) handler(data, peer, identity);
    });
  }

  local(): Peer {
    return this.inner.local();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
