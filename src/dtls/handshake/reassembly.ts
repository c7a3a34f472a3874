/**
 * Reassembly of handshake messages from fragments that may arrive duplicated, overlapping and out
 * of order (RFC 6347 §4.2.3), delivered strictly in message_seq order (§4.2.2): a message ahead
 * of the next expected one is buffered (bounded), one behind it is a retransmission (reported so
 * that the caller can retransmit its own last flight, §4.2.4).
 */
import { DtlsDecodeError } from '../../common/errors';
import type { HandshakeFragment } from './header';

export interface HandshakeMessage {
  readonly type: number;
  readonly messageSeq: number;
  readonly body: Buffer;
}

/** Messages ahead of the expected one kept at most (a flight has at most 5 or so). */
const MAX_AHEAD = 8;

interface Partial {
  readonly type: number;
  readonly body: Buffer;
  /** Received byte ranges, merged: [start, end) pairs. */
  ranges: Array<[number, number]>;
}

export class HandshakeReassembler {
  private readonly partial = new Map<number, Partial>();

  constructor(private next = 0) {}

  get expectedSeq(): number {
    return this.next;
  }

  /**
   * Adds a fragment; returns the messages now complete in order, and whether the fragment
   * belonged to an earlier message (a retransmission by the peer).
   */
  add(f: HandshakeFragment): { messages: HandshakeMessage[]; old: boolean } {
    if (f.messageSeq < this.next) return { messages: [], old: true };
    if (f.messageSeq >= this.next + MAX_AHEAD) return { messages: [], old: false };
    let p = this.partial.get(f.messageSeq);
    if (p === undefined) {
      p = { type: f.type, body: Buffer.alloc(f.length), ranges: [] };
      this.partial.set(f.messageSeq, p);
    } else if (p.type !== f.type || p.body.length !== f.length) {
      throw new DtlsDecodeError(
        `handshake fragment of message ${f.messageSeq} disagrees with an earlier one (type ${f.type}/${p.type}, length ${f.length}/${p.body.length})`,
      );
    }
    f.body.copy(p.body, f.offset);
    p.ranges = merge([...p.ranges, [f.offset, f.offset + f.body.length]]);
    const messages: HandshakeMessage[] = [];
    for (;;) {
      const q = this.partial.get(this.next);
      if (q === undefined || !complete(q)) break;
      messages.push({ type: q.type, messageSeq: this.next, body: q.body });
      this.partial.delete(this.next);
      this.next++;
    }
    return { messages, old: false };
  }
}

function complete(p: Partial): boolean {
  const first = p.ranges[0];
  return (
    p.body.length === 0 ||
    (p.ranges.length === 1 && first !== undefined && first[0] === 0 && first[1] === p.body.length)
  );
}

function merge(ranges: Array<[number, number]>): Array<[number, number]> {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last !== undefined && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}
