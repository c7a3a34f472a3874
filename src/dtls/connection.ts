/**
 * An established DTLS connection (epoch 1): the record protection of both directions, the write
 * sequence number, the anti-replay window (RFC 6347 §4.1.2.6), the connection IDs (RFC 9146)
 * and the server's last flight, sent again when the client repeats its own last flight because
 * ours was lost (§4.2.4).
 */
import type { Peer } from '../transport/types';
import { ContentType, type DtlsRecord } from './record';
import { RecordProtection } from './record-protection';
import { ReplayWindow } from './replay-window';
import type { Established } from './server-handshake';
import type { FlightItem, RecordWriter } from './flight';

export class DtlsConnection implements RecordWriter {
  readonly read: RecordProtection;
  readonly write: RecordProtection;
  readonly window = new ReplayWindow();
  private writeSeq: number[] = [0, 0];
  /** Authenticated records and bytes, for metrics and tests. */
  recordsIn = 0;

  constructor(
    readonly params: Established,
    public peer: Peer,
    /** The server's last flight (ChangeCipherSpec, Finished), kept for retransmission. */
    readonly lastFlight: readonly FlightItem[],
    epochSequences: readonly number[],
  ) {
    this.read = new RecordProtection(params.suite, params.keys.client);
    this.write = new RecordProtection(params.suite, params.keys.server);
    this.writeSeq = [...epochSequences];
  }

  nextSequence(epoch: number): number {
    const seq = this.writeSeq[epoch] ?? 0;
    this.writeSeq[epoch] = seq + 1;
    return seq;
  }

  protection(): RecordProtection {
    return this.write;
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
    this.recordsIn++;
    return { ...opened, newest };
  }

  /** True for a record type an established connection takes from the client. */
  static carriesData(type: number): boolean {
    return type === ContentType.APPLICATION_DATA || type === ContentType.ALERT || type === ContentType.HANDSHAKE;
  }
}
