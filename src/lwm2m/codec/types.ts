/**
 * Content-format codec contracts. Two tiers, as in Leshan: each format has a bytes ↔ records
 * layer (its own file) and a records ↔ node layer; this file is the node-level contract that
 * the server uses through the registry (`./registry.ts`).
 */
import type { LwM2mPath } from '../path';
import type { LwM2mNode, TimestampedNode } from '../node';
import type { ObjectModelLookup } from '../model/types';

/** CoAP Content-Format numbers used by LwM2M (LwM2M-Core 1.2 §7.4, IANA CoAP registry). */
export const ContentFormat = {
  TEXT: 0,
  LINK: 40,
  OPAQUE: 42,
  CBOR: 60,
  SENML_JSON: 110,
  SENML_CBOR: 112,
  TLV: 11542,
  JSON: 11543,
  LWM2M_CBOR: 11544,
  /** Pre-registration numbers used by LwM2M 1.0 clients. */
  TLV_LEGACY: 1542,
  JSON_LEGACY: 1543,
} as const;
export type ContentFormatCode = (typeof ContentFormat)[keyof typeof ContentFormat];

/** Object versions a device announced at registration, by object id (for model lookups). */
export type ObjectVersions = ReadonlyMap<number, string>;

export interface CodecContext {
  readonly model: ObjectModelLookup;
  readonly versions?: ObjectVersions;
}

/** Single-path codec: a Read/Write/Observe payload for one target path. */
export interface NodeCodec {
  readonly format: number;
  /** Whether the format can carry a node at this path level (e.g. text/plain only single values). */
  supports(path: LwM2mPath, node?: LwM2mNode): boolean;
  decode(payload: Buffer, path: LwM2mPath, ctx: CodecContext): LwM2mNode;
  encode(node: LwM2mNode, path: LwM2mPath, ctx: CodecContext): Buffer;
}

/** Formats that carry time series (SenML JSON/CBOR, LwM2M JSON): Send and historical notifications. */
export interface TimestampedCodec {
  decodeTimestamped(payload: Buffer, path: LwM2mPath, ctx: CodecContext): TimestampedNode[];
}

/**
 * Multi-path codec for the composite operations and Send (SenML JSON, SenML CBOR, LwM2M CBOR).
 * Keys are formatted paths ("/3/0/9"). A value of `null` means "no value for this path"
 * (e.g. a path the device could not read, or a Write-Composite removal).
 */
export interface CompositeCodec {
  readonly format: number;
  decodeNodes(payload: Buffer, paths: readonly LwM2mPath[] | null, ctx: CodecContext): Map<string, LwM2mNode | null>;
  encodeNodes(nodes: ReadonlyMap<string, LwM2mNode | null>, ctx: CodecContext): Buffer;
  /** The request body of Read-Composite / Observe-Composite: the list of paths only. */
  encodePaths(paths: readonly LwM2mPath[]): Buffer;
  decodePaths(payload: Buffer): LwM2mPath[];
  /** Send and timestamped composite notifications (LwM2M-Core 1.2 §6.4.3, §7.4.5). */
  decodeTimestampedNodes(
    payload: Buffer,
    ctx: CodecContext,
  ): Array<{ timestamp?: number; nodes: Map<string, LwM2mNode | null> }>;
}
