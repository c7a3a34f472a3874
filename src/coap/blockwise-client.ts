/**
 * Client-side block-wise transfers (RFC 7959) over the endpoint's single exchanges.
 * - Block1 (§2.5): a request body larger than the block size is sent block by block, each
 *   waiting for 2.31 Continue; a smaller SZX in the answer is adopted (§2.3).
 * - Block2 (§2.4): a response with M=1 is completed by requesting the following blocks with the
 *   same options (without Observe, §2.6 for notifications), checking ETag consistency, up to a
 *   bounded body size.
 */
import { BridgeError } from '../common/errors';
import type { Peer } from '../transport/types';
import type { CoapEndpoint } from './endpoint';
import { Code, Opt, type CoapMessage, type CoapOption } from './message';
import { blockSize, encodeBlock, getBlock, getOption, uintOption, withOptions, withoutOptions } from './options';
import type { OutboundRequest } from './outbound';

export interface BlockwiseClientOptions {
  /** SZX of the blocks we send and ask for (6 = 1024 bytes). */
  readonly szx: number;
  /** Largest response body we reassemble. */
  readonly maxBodyBytes: number;
}

export class BlockwiseError extends BridgeError {
  constructor(message: string) {
    super('BLOCKWISE', message);
  }
}

export class BlockwiseClient {
  constructor(
    private readonly endpoint: CoapEndpoint,
    private readonly opts: BlockwiseClientOptions,
  ) {}

  /** Sends a request, splitting its body and completing its response as needed. */
  async request(peer: Peer, req: OutboundRequest): Promise<CoapMessage> {
    const payload = req.payload;
    const res =
      payload !== undefined && payload.length > blockSize(this.opts.szx)
        ? await this.sendBlock1(peer, req, payload)
        : await this.endpoint.request(peer, req);
    return this.completeBlock2(peer, req, res);
  }

  /** Completes a response (or a notification) whose Block2 has M=1 by fetching the remaining blocks. */
  async completeBlock2(peer: Peer, req: OutboundRequest, first: CoapMessage): Promise<CoapMessage> {
    const b2 = getBlock(first, Opt.BLOCK2);
    if (b2 === undefined || !b2.more)
      return b2 === undefined ? first : { ...first, options: withoutOptions(first.options, Opt.BLOCK2, Opt.SIZE2) };
    const etag = getOption(first, Opt.ETAG);
    const parts: Buffer[] = [first.payload];
    let received = first.payload.length;
    let szx = b2.szx;
    let next = (b2.num + 1) * blockSize(szx);
    const base = withoutOptions(req.options, Opt.OBSERVE, Opt.BLOCK2, Opt.BLOCK1, Opt.SIZE1);
    for (;;) {
      const num = next / blockSize(szx);
      const res = await this.endpoint.request(peer, {
        code: req.code,
        options: withOptions(base, { number: Opt.BLOCK2, value: encodeBlock({ num, more: false, szx }) }),
        ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
      });
      if (res.code >> 5 !== 2) return res;
      const b = getBlock(res, Opt.BLOCK2);
      if (b === undefined) throw new BlockwiseError('block response without Block2 option');
      // RFC 7959 §2.4: the block must start at the offset we asked for (possibly renumbered for a smaller
      // SZX); appending any other block would silently corrupt the body.
      if (b.num * blockSize(b.szx) !== next) {
        throw new BlockwiseError(`asked for the block at offset ${next}, got block ${b.num} (SZX ${b.szx})`);
      }
      const tag = getOption(res, Opt.ETAG);
      if (etag !== undefined && (tag === undefined || !tag.equals(etag))) {
        throw new BlockwiseError('ETag changed during a block-wise transfer (RFC 7959 §2.4)');
      }
      received += res.payload.length;
      if (received > this.opts.maxBodyBytes)
        throw new BlockwiseError(`response body exceeds ${this.opts.maxBodyBytes} bytes`);
      parts.push(res.payload);
      if (!b.more) {
        // RFC 7959 §2.6: the Observe option (and the message identity) belong to the first block's
        // response; the later blocks answer plain GETs. The assembled message is the first one.
        return {
          ...first,
          options: withoutOptions(first.options, Opt.BLOCK2, Opt.SIZE2),
          payload: Buffer.concat(parts, received),
        };
      }
      szx = b.szx;
      next = received;
    }
  }

  private async sendBlock1(peer: Peer, req: OutboundRequest, payload: Buffer): Promise<CoapMessage> {
    let szx = this.opts.szx;
    let offset = 0;
    const base = withoutOptions(req.options, Opt.BLOCK1, Opt.SIZE1);
    for (;;) {
      const size = blockSize(szx);
      const num = offset / size;
      const chunk = payload.subarray(offset, offset + size);
      const more = offset + size < payload.length;
      const extra: CoapOption[] = [{ number: Opt.BLOCK1, value: encodeBlock({ num, more, szx }) }];
      if (num === 0) extra.push(uintOption(Opt.SIZE1, payload.length));
      const res = await this.endpoint.request(peer, { ...req, options: withOptions(base, ...extra), payload: chunk });
      if (!more) return res;
      if (res.code !== Code.CONTINUE) return res; // an error (or a premature final answer) ends the transfer
      const echo = getBlock(res, Opt.BLOCK1);
      offset += size;
      if (echo !== undefined && echo.szx < szx) szx = echo.szx; // RFC 7959 §2.3: adopt the smaller size
    }
  }
}
