/**
 * One registry from content format to codec (the server never switches on formats itself).
 */
import { UnsupportedFormatError } from '../../common/errors';
import type { LwM2mNode, TimestampedNode } from '../node';
import type { LwM2mPath } from '../path';
import type { CodecContext, CompositeCodec, NodeCodec, TimestampedCodec } from './types';

export class ContentCodecs {
  private readonly nodeCodecs = new Map<number, NodeCodec>();
  private readonly compositeCodecs = new Map<number, CompositeCodec>();
  private readonly timestampedCodecs = new Map<number, TimestampedCodec>();

  addNode(codec: NodeCodec, format: number = codec.format): this {
    this.nodeCodecs.set(format, codec);
    return this;
  }

  addComposite(codec: CompositeCodec, format: number = codec.format): this {
    this.compositeCodecs.set(format, codec);
    return this;
  }

  addTimestamped(format: number, codec: TimestampedCodec): this {
    this.timestampedCodecs.set(format, codec);
    return this;
  }

  supportsNode(format: number): boolean {
    return this.nodeCodecs.has(format);
  }

  supportsComposite(format: number): boolean {
    return this.compositeCodecs.has(format);
  }

  nodeFormats(): number[] {
    return [...this.nodeCodecs.keys()];
  }

  compositeFormats(): number[] {
    return [...this.compositeCodecs.keys()];
  }

  nodeCodec(format: number): NodeCodec {
    const c = this.nodeCodecs.get(format);
    if (c === undefined) throw new UnsupportedFormatError(format);
    return c;
  }

  compositeCodec(format: number): CompositeCodec {
    const c = this.compositeCodecs.get(format);
    if (c === undefined) throw new UnsupportedFormatError(format);
    return c;
  }

  decodeNode(format: number, payload: Buffer, path: LwM2mPath, ctx: CodecContext): LwM2mNode {
    return this.nodeCodec(format).decode(payload, path, ctx);
  }

  encodeNode(format: number, node: LwM2mNode, path: LwM2mPath, ctx: CodecContext): Buffer {
    return this.nodeCodec(format).encode(node, path, ctx);
  }

  /** Time series for formats that carry timestamps; undefined for formats that cannot. */
  decodeTimestamped(
    format: number,
    payload: Buffer,
    path: LwM2mPath,
    ctx: CodecContext,
  ): TimestampedNode[] | undefined {
    return this.timestampedCodecs.get(format)?.decodeTimestamped(payload, path, ctx);
  }
}
