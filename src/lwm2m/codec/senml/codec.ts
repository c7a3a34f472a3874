/**
 * The node-level SenML codec (LwM2M-Core 1.1 §7.4.5 SenML JSON, §7.4.6 SenML CBOR), built on a
 * bytes ↔ raw records layer. Covers Read/Write/Observe payloads of one path, the composite
 * operations (Read-/Observe-/Write-Composite) and timestamped content (Send, historical
 * notifications).
 */
import { CodecError } from '../../../common/errors';
import type { LwM2mNode, TimestampedNode } from '../../node';
import { formatPath, fromIds, pathIds, pathLevel, type LwM2mPath } from '../../path';
import { isTreeNodeSupported } from '../codec-common';
import { nodeLeaves } from '../leaf-nodes';
import type { CodecContext, CompositeCodec, NodeCodec, TimestampedCodec } from '../types';
import { compositeEntries, leavesToRecords } from './leaves';
import { buildComposite, buildNodeFromRecords, groupByTime } from './nodes';
import type { RawRecord, ResolvedRecord } from './record';
import { resolveRecords } from './resolve';

/** A SenML representation: bytes ↔ raw records. */
export interface SenmlBytes {
  read(payload: Buffer, where: string): RawRecord[];
  write(records: readonly RawRecord[], where: string): Buffer;
}

export type SenmlCodec = NodeCodec & TimestampedCodec & CompositeCodec;

/** For one path: when a resource appears at several times, its latest record. */
function latestPerPath(records: ResolvedRecord[]): ResolvedRecord[] {
  if (!records.some((r) => r.time !== undefined)) return records;
  const latest = new Map<string, ResolvedRecord>();
  for (const r of records) {
    const prev = latest.get(r.name);
    // A record without time is "now", newer than any timed one (RFC 8428 §4.5.3).
    if (!prev || (r.time ?? Infinity) >= (prev.time ?? Infinity)) latest.set(r.name, r);
  }
  return [...latest.values()];
}

export function createSenmlCodec(format: number, bytes: SenmlBytes): SenmlCodec {
  const records = (payload: Buffer, where: string): ResolvedRecord[] =>
    resolveRecords(bytes.read(payload, where), where);

  return {
    format,

    supports: isTreeNodeSupported,

    decode(payload: Buffer, path: LwM2mPath, ctx: CodecContext): LwM2mNode {
      return buildNodeFromRecords(latestPerPath(records(payload, formatPath(path))), pathIds(path), ctx);
    },

    encode(node: LwM2mNode, path: LwM2mPath): Buffer {
      const where = formatPath(path);
      if (pathLevel(path) === 'root') throw new CodecError('SenML cannot encode a node for the root path', where);
      return bytes.write(leavesToRecords(nodeLeaves(node, path)), where);
    },

    decodeTimestamped(payload: Buffer, path: LwM2mPath, ctx: CodecContext): TimestampedNode[] {
      const ids = pathIds(path);
      const out: TimestampedNode[] = [];
      for (const [timestamp, group] of groupByTime(records(payload, formatPath(path)))) {
        const node = buildNodeFromRecords(group, ids, ctx);
        out.push(timestamp === undefined ? { node } : { timestamp, node });
      }
      return out;
    },

    decodeNodes(payload: Buffer, paths: readonly LwM2mPath[] | null, ctx: CodecContext): Map<string, LwM2mNode | null> {
      const resolved = records(payload, '/');
      if (!paths) return buildComposite(resolved, null, ctx);
      return buildComposite(latestPerPath(resolved), paths.map(pathIds), ctx);
    },

    encodeNodes(nodes: ReadonlyMap<string, LwM2mNode | null>): Buffer {
      return bytes.write(leavesToRecords(compositeEntries(nodes)), '/');
    },

    encodePaths(paths: readonly LwM2mPath[]): Buffer {
      return bytes.write(
        paths.map((p) => ({ n: formatPath(p) })),
        '/',
      );
    },

    decodePaths(payload: Buffer): LwM2mPath[] {
      const resolved = resolveRecords(bytes.read(payload, '/'), '/', { allowTrailingSlash: true });
      return resolved.map((r) => {
        if (r.kind !== undefined) throw new CodecError('a path-only SenML record carries a value', r.name);
        return fromIds(r.ids);
      });
    },

    decodeTimestampedNodes(payload: Buffer, ctx: CodecContext) {
      const out: Array<{ timestamp?: number; nodes: Map<string, LwM2mNode | null> }> = [];
      for (const [timestamp, group] of groupByTime(records(payload, '/'))) {
        const nodes = buildComposite(group, null, ctx);
        out.push(timestamp === undefined ? { nodes } : { timestamp, nodes });
      }
      return out;
    },
  };
}
