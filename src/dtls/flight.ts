/**
 * A flight of the server (RFC 6347 §4.2.4): its messages kept so they can be sent again, each
 * time in fresh records (new record sequence numbers, §4.1), packed into as few datagrams as
 * the datagram limit allows, fragmenting a message that does not fit (§4.2.3).
 */
import type { RecordProtection } from './record-protection';
import { ContentType, encodeRecord, RECORD_HEADER_LENGTH } from './record';
import { fragmentHandshake, HANDSHAKE_HEADER_LENGTH } from './handshake/header';

export type FlightItem =
  | {
      readonly kind: 'handshake';
      readonly epoch: number;
      readonly type: number;
      readonly messageSeq: number;
      readonly body: Buffer;
    }
  | { readonly kind: 'ccs' };

/** Record sequence numbers per epoch, as the writer owns them. */
export interface RecordWriter {
  nextSequence(epoch: number): number;
  /** The protection of epoch 1 (undefined before keys exist). */
  protection(): RecordProtection | undefined;
  /** The connection ID to put in protected records to the peer, if any (RFC 9146). */
  peerCid(): Buffer | undefined;
  /** Largest plaintext fragment of a record (2^14, or the max_fragment_length agreed, RFC 6066 §4). */
  maxFragment(): number;
}

/** Overhead of protecting a record, at most (CBC: IV, MAC and a block of padding). */
const PROTECTION_OVERHEAD = 16 + 32 + 16;

export function flightDatagrams(items: readonly FlightItem[], w: RecordWriter, maxDatagram: number): Buffer[] {
  const maxFragment = w.maxFragment();
  const records: Buffer[] = [];
  for (const item of items) {
    if (item.kind === 'ccs') {
      records.push(encodeRecord(ContentType.CHANGE_CIPHER_SPEC, 0, w.nextSequence(0), Buffer.from([1])));
      continue;
    }
    const room =
      Math.min(
        maxFragment,
        maxDatagram -
          RECORD_HEADER_LENGTH -
          (item.epoch > 0 ? PROTECTION_OVERHEAD + (w.peerCid()?.length ?? 0) + 1 : 0),
      ) - HANDSHAKE_HEADER_LENGTH;
    for (const fragment of fragmentHandshake(item.type, item.messageSeq, item.body, Math.max(64, room))) {
      const seq = w.nextSequence(item.epoch);
      const p = w.protection();
      if (item.epoch > 0 && p !== undefined)
        records.push(p.seal(ContentType.HANDSHAKE, item.epoch, seq, fragment, w.peerCid()));
      else records.push(encodeRecord(ContentType.HANDSHAKE, 0, seq, fragment));
    }
  }
  // Pack records into datagrams (RFC 6347 §4.1.1: several records may share a datagram).
  const datagrams: Buffer[] = [];
  let current: Buffer[] = [];
  let size = 0;
  for (const r of records) {
    if (size > 0 && size + r.length > maxDatagram) {
      datagrams.push(Buffer.concat(current));
      current = [];
      size = 0;
    }
    current.push(r);
    size += r.length;
  }
  if (current.length > 0) datagrams.push(Buffer.concat(current));
  return datagrams;
}
