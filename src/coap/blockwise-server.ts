/**
 * Server-side block-wise transfers (RFC 7959) as a layer around a request handler.
 * - Block1 (§2.5): request bodies are reassembled per (peer, method, URI, content format);
 *   each non-final block is answered 2.31 Continue, the final response echoes Block1.
 *   Out-of-order blocks get 4.08, bodies over the limit 4.13 with Size1 (§2.9.3, §4),
 *   and reassembly memory is bounded in count and bytes, in all and per source address
 *   (5.03 with Max-Age when full, DESIGN invariant 5).
 * - Block2 (§2.4): responses larger than the preferred block size are sliced statelessly:
 *   each block request re-runs the handler and returns the requested slice with Size2.
 */
import { CoapFormatError } from '../common/errors';
import type { LimitCounters } from '../transport/limit-counters';
import { displayAddress, peerKey } from '../transport/types';
import type { InboundRequest, RequestHandler, Responder, ResponseSpec } from './endpoint';
import { Code, Opt, type CoapMessage, type CoapOption } from './message';
import {
  blockSize,
  encodeBlock,
  getBlock,
  getUintOption,
  uintOption,
  withOptions,
  withoutOptions,
  type BlockValue,
} from './options';

export interface BlockwiseServerOptions {
  /** Largest request body accepted, in bytes (4.13 above it). */
  readonly maxBodyBytes: number;
  /** Reassemblies in progress at most. */
  readonly maxConcurrent: number;
  /** Bytes held by all reassemblies together at most (5.03 with Max-Age above it). */
  readonly maxTotalBytes: number;
  /** Preferred SZX for our Block2 responses and Block1 negotiation (6 = 1024 bytes). */
  readonly preferredSzx: number;
  /** Incomplete reassemblies are dropped after this time (EXCHANGE_LIFETIME). */
  readonly lifetimeMs: number;
  /** Bytes held by the reassemblies of one source address at most (5.03 with Max-Age above it). Default: no limit. */
  readonly maxSourceBytes?: number;
  /** Counts bodies refused as too large or over their source's budget. */
  readonly limits?: LimitCounters;
}

interface Reassembly {
  /** The source address whose budget the bytes count against. */
  readonly source: string;
  readonly parts: Buffer[];
  received: number;
  updated: number;
}

export class BlockwiseServer {
  private readonly inProgress = new Map<string, Reassembly>();
  /** Bytes held per source address (entries removed at 0). */
  private readonly bySource = new Map<string, number>();
  private bytes = 0;
  rejectedTooLarge = 0;
  rejectedIncomplete = 0;
  rejectedBusy = 0;

  constructor(
    private readonly inner: RequestHandler,
    private readonly opts: BlockwiseServerOptions,
  ) {}

  readonly handle: RequestHandler = (req, respond) => {
    let block1: BlockValue | undefined;
    let block2: BlockValue | undefined;
    try {
      block1 = getBlock(req.message, Opt.BLOCK1);
      block2 = getBlock(req.message, Opt.BLOCK2);
    } catch (err) {
      // RFC 7252 §5.4.3: a value length outside the option's range (Block1/2: 0-3 bytes, RFC 7959 §2.2)
      // makes it an unrecognised option; both are critical, so the request gets 4.02 (§5.4.1).
      if (!(err instanceof CoapFormatError)) throw err;
      respond({ code: Code.BAD_OPTION, payload: Buffer.from(err.message) });
      return;
    }
    if ((block1 && block1.szx === 7) || (block2 && block2.szx === 7)) {
      respond({ code: Code.BAD_REQUEST, payload: Buffer.from('SZX 7 (BERT) is not used over UDP') }); // RFC 8323 §6
      return;
    }
    if (block1 === undefined) {
      this.inner(req, this.sliceResponses(req.message, respond));
      return;
    }
    this.onBlock1(req, block1, respond);
  };

  get reassemblies(): number {
    return this.inProgress.size;
  }

  get reassemblyBytes(): number {
    return this.bytes;
  }

  private onBlock1(req: InboundRequest, b: BlockValue, respond: Responder): void {
    const msg = req.message;
    const key = bodyKey(peerKey(req.peer), msg);
    const size1 = size1Of(msg);
    if (size1 !== undefined && size1 > this.opts.maxBodyBytes) return this.tooLarge(key, respond);
    const size = blockSize(b.szx);
    if (b.more && msg.payload.length !== size) {
      // RFC 7959 §2.2: every block but the last carries exactly the block size.
      this.drop(key);
      respond({
        code: Code.BAD_REQUEST,
        payload: Buffer.from(`block ${b.num} has ${msg.payload.length} bytes, expected ${size}`),
      });
      return;
    }
    const now = Date.now();
    let r = this.inProgress.get(key);
    if (b.num === 0) {
      this.drop(key);
      this.expire(now);
      if (this.inProgress.size >= this.opts.maxConcurrent) {
        respond({ code: Code.SERVICE_UNAVAILABLE, options: [uintOption(Opt.MAX_AGE, 5)] });
        return;
      }
      r = { source: displayAddress(req.peer.address), parts: [], received: 0, updated: now };
      this.inProgress.set(key, r);
    } else if (r === undefined || r.received !== b.num * size) {
      // RFC 7959 §2.9.2: a block that does not continue the body gets 4.08.
      this.drop(key);
      this.rejectedIncomplete++;
      respond({ code: Code.REQUEST_ENTITY_INCOMPLETE, options: [{ number: Opt.BLOCK1, value: encodeBlock(b) }] });
      return;
    }
    if (r.received + msg.payload.length > this.opts.maxBodyBytes) return this.tooLarge(key, respond);
    if (this.bytes + msg.payload.length > this.opts.maxTotalBytes) {
      // All reassemblies together are over budget: shed this one, ask the client to come back later.
      this.drop(key);
      this.rejectedBusy++;
      respond({ code: Code.SERVICE_UNAVAILABLE, options: [uintOption(Opt.MAX_AGE, 5)] });
      return;
    }
    const held = this.bySource.get(r.source) ?? 0;
    if (held + msg.payload.length > (this.opts.maxSourceBytes ?? Number.POSITIVE_INFINITY)) {
      // This source's bodies together are over its budget: one address cannot take the shared one.
      this.drop(key);
      this.rejectedBusy++;
      this.opts.limits?.count('source-reassembly');
      respond({ code: Code.SERVICE_UNAVAILABLE, options: [uintOption(Opt.MAX_AGE, 5)] });
      return;
    }
    r.parts.push(Buffer.from(msg.payload));
    r.received += msg.payload.length;
    this.bytes += msg.payload.length;
    this.bySource.set(r.source, held + msg.payload.length);
    r.updated = now;
    const echo: CoapOption = { number: Opt.BLOCK1, value: encodeBlock({ num: b.num, more: b.more, szx: b.szx }) };
    if (b.more) {
      // RFC 7959 §2.3: 2.31 Continue acknowledges a non-final block; a smaller SZX asks for smaller blocks.
      const szx = Math.min(b.szx, this.opts.preferredSzx);
      respond({
        code: Code.CONTINUE,
        options: [{ number: Opt.BLOCK1, value: encodeBlock({ num: b.num, more: true, szx }) }],
      });
      return;
    }
    const body = Buffer.concat(r.parts, r.received);
    this.drop(key);
    const whole: CoapMessage = { ...msg, options: withoutOptions(msg.options, Opt.BLOCK1, Opt.SIZE1), payload: body };
    this.inner({ peer: req.peer, message: whole }, (res) =>
      respond({ ...res, options: withOptions(res.options ?? [], echo) }),
    );
  }

  private tooLarge(key: string, respond: Responder): void {
    this.drop(key);
    this.rejectedTooLarge++;
    this.opts.limits?.count('body-too-large');
    // RFC 7959 §2.9.3 / §4: 4.13 with Size1 telling the largest body we accept.
    respond({ code: Code.REQUEST_ENTITY_TOO_LARGE, options: [uintOption(Opt.SIZE1, this.opts.maxBodyBytes)] });
  }

  private drop(key: string): void {
    const r = this.inProgress.get(key);
    if (r === undefined) return;
    this.bytes -= r.received;
    const left = (this.bySource.get(r.source) ?? 0) - r.received;
    if (left > 0) this.bySource.set(r.source, left);
    else this.bySource.delete(r.source);
    this.inProgress.delete(key);
  }

  private expire(now: number): void {
    for (const [key, r] of this.inProgress) if (now - r.updated > this.opts.lifetimeMs) this.drop(key);
  }

  /** Wraps a responder so that large responses go out in Block2 slices (RFC 7959 §2.4). */
  private sliceResponses(req: CoapMessage, respond: Responder): Responder {
    const requested = getBlock(req, Opt.BLOCK2);
    return (res: ResponseSpec) => {
      const payload = res.payload;
      const szx = Math.min(requested?.szx ?? this.opts.preferredSzx, this.opts.preferredSzx);
      const size = blockSize(szx);
      if (payload === undefined || (payload.length <= size && requested === undefined)) return respond(res);
      const num = requested ? (requested.num * blockSize(requested.szx)) / size : 0;
      const start = num * size;
      if (start >= payload.length && payload.length > 0) {
        respond({ code: Code.BAD_OPTION, payload: Buffer.from(`block ${requested?.num} is past the end`) });
        return;
      }
      const more = start + size < payload.length;
      const options = withOptions(
        withoutOptions(res.options ?? [], Opt.BLOCK2, Opt.SIZE2),
        { number: Opt.BLOCK2, value: encodeBlock({ num, more, szx }) },
        uintOption(Opt.SIZE2, payload.length),
      );
      respond({ code: res.code, options, payload: payload.subarray(start, start + size) });
    };
  }
}

/** Size1 is elective: a value longer than 4 bytes is ignored like an unrecognised option (RFC 7252 §5.4.3). */
function size1Of(msg: CoapMessage): number | undefined {
  try {
    return getUintOption(msg, Opt.SIZE1);
  } catch {
    return undefined;
  }
}

function bodyKey(peer: string, msg: CoapMessage): string {
  let key = `${peer}|${msg.code}`;
  for (const o of msg.options) {
    if (o.number === Opt.URI_PATH || o.number === Opt.URI_QUERY || o.number === Opt.CONTENT_FORMAT)
      key += `|${o.number}=${o.value.toString('hex')}`;
  }
  return key;
}
