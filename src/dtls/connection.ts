/**
 * An established DTLS connection (epoch 1): the record protection of both directions, the write
 * sequence number, the anti-replay window (RFC 6347 §4.1.2.6), the connection IDs (RFC 9146)
 * and the server's last flight, sent again when the client repeats its own last flight because
 * ours was lost (§4.2.4).
 */
import type { Peer } from '../transport/types';
import type { DtlsRecord } from './record';
import { RecordProtection } from './record-protection';
import { ReplayWindow } from './replay-window';
import type { Established } from './server-handshake';
import type { FlightItem, RecordWriter } from './flight';

/** Where an instance's epoch-1 write sequence numbers may go (a block reserved in the shared store). */
export interface WriteRange {
  next: number;
  /** First number past the range. */
  end: number;
}

export class DtlsConnection implements RecordWriter {
  readonly read: RecordProtection;
  readonly write: RecordProtection;
  readonly window: ReplayWindow;
  private epoch0Seq: number;
  private range: WriteRange;
  /** The range to switch to once this one is used up (reserved ahead of time). */
  nextRange: WriteRange | undefined;
  /** When the last authentic record came (ms): an idle connection is forgotten (DtlsServer sweep). */
  lastSeen = Date.now();
  /** The read sequence number last recorded in the shared store, and when. */
  markedRead = -1;
  markedAt = 0;

  constructor(
    readonly params: Established,
    peer: Peer,
    /** The server's last flight (ChangeCipherSpec, Finished), kept for retransmission. */
    readonly lastFlight: readonly FlightItem[],
    epoch0Sequence: number,
    writes: WriteRange,
    /** Read sequence numbers at or below it count as seen (a connection continued from another instance). */
    readFloor = -1,
  ) {
    this.read = new RecordProtection(params.suite, params.keys.client);
    this.write = new RecordProtection(params.suite, params.keys.server);
    this.epoch0Seq = epoch0Sequence;
    this.range = writes;
    this.window = new ReplayWindow(readFloor);
    this.current = peer;
    this.marked = { address: peer.address, port: peer.port, secure: true };
  }

  private current: Peer;
  private marked: Peer;

  /** Where the device's records come from now (it moves with a NAT rebinding, RFC 9146 §6). */
  get peer(): Peer {
    return this.current;
  }

  set peer(to: Peer) {
    this.current = to;
    this.marked = { address: to.address, port: to.port, secure: true };
  }

  /** The peer marked `secure`, as the CoAP layer sees it: one object per address, not per datagram. */
  get securePeer(): Peer {
    return this.marked;
  }

  /** Write sequence numbers left in the current range (the caller reserves more before it runs out). */
  get writesLeft(): number {
    return this.range.end - this.range.next;
  }

  nextSequence(epoch: number): number {
    if (epoch === 0) return this.epoch0Seq++;
    if (this.range.next >= this.range.end && this.nextRange !== undefined) {
      this.range = this.nextRange;
      this.nextRange = undefined;
    }
    // Never past the range: that number may belong to another instance (an AEAD nonce used twice).
    if (this.range.next >= this.range.end) throw new RangeError('no write sequence numbers left in the reserved range');
    return this.range.next++;
  }

  protection(): RecordProtection {
    return this.write;
  }

  maxFragment(): number {
    return this.params.maxFragment ?? 16384;
  }

  peerCid(): Buffer | undefined {
    return this.params.peerCid !== undefined && this.params.peerCid.length > 0 ? this.params.peerCid : undefined;
  }

  /** Application data as one protected record. */
  seal(type: number, content: Buffer): Buffer {
    return this.write.seal(type, 1, this.nextSequence(1), content, this.peerCid());
  }

  /**
   * Opens an epoch-1 record: the content, or undefined when it is a replay or does not
   * authenticate (dropped silently, §4.1.2.7). The window moves only for authentic records.
   */
  open(record: DtlsRecord): { type: number; content: Buffer; newest: boolean } | undefined {
    if (record.epoch !== 1 || !this.window.mayAccept(record.sequence)) return undefined;
    const opened = this.read.open(record);
    if (opened === undefined) return undefined;
    const newest = record.sequence > this.window.highest;
    this.window.mark(record.sequence);
    this.lastSeen = Date.now();
    return { ...opened, newest };
  }
}
