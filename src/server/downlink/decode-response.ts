/**
 * Turns a response or notification payload into nodes by path, through the codec registry.
 */
import { ContentFormat, type CodecContext } from '../../lwm2m/codec/types';
import type { ContentCodecs } from '../../lwm2m/codec/registry';
import { formatPath, pathLevel, type LwM2mPath } from '../../lwm2m/path';
import type { NodesByPath } from '../events';

export interface DecodedContent {
  readonly nodes: NodesByPath;
  readonly timestamped?: Array<{ timestamp?: number; nodes: NodesByPath }>;
}

/** The format to assume when a response carries no Content-Format (a 1.0 habit for single values). */
export function implicitFormat(path: LwM2mPath): number {
  const level = pathLevel(path);
  return level === 'resource' || level === 'resourceInstance' ? ContentFormat.TEXT : ContentFormat.TLV;
}

export function decodeContent(
  codecs: ContentCodecs,
  format: number | undefined,
  payload: Buffer,
  kind: 'single' | 'composite',
  paths: readonly LwM2mPath[],
  ctx: CodecContext,
): DecodedContent {
  if (kind === 'composite') {
    const f = format ?? ContentFormat.SENML_CBOR;
    const codec = codecs.compositeCodec(f);
    const groups = codec.decodeTimestampedNodes(payload, ctx);
    if (groups.length > 1 || (groups.length === 1 && groups[0]?.timestamp !== undefined)) {
      const latest = groups[groups.length - 1];
      return { nodes: latest ? latest.nodes : new Map(), timestamped: groups };
    }
    return { nodes: codec.decodeNodes(payload, paths, ctx) };
  }
  const path = paths[0] ?? {};
  const key = formatPath(path);
  if (payload.length === 0) return { nodes: new Map() };
  const f = format ?? implicitFormat(path);
  const series = codecs.decodeTimestamped(f, payload, path, ctx);
  if (series !== undefined && series.some((s) => s.timestamp !== undefined)) {
    const timestamped = series.map((s) => ({
      ...(s.timestamp !== undefined ? { timestamp: s.timestamp } : {}),
      nodes: new Map([[key, s.node]]) as NodesByPath,
    }));
    const last = series[series.length - 1];
    return { nodes: new Map([[key, last ? last.node : null]]), timestamped };
  }
  // SenML without any time: its one group holds every record, in order, which is exactly what the
  // node decoder would build from a second parse of the payload (src/lwm2m/codec/senml/codec.ts).
  const only =
    series?.length === 1 && (f === ContentFormat.SENML_JSON || f === ContentFormat.SENML_CBOR) ? series[0] : undefined;
  if (only !== undefined) return { nodes: new Map([[key, only.node]]) };
  return { nodes: new Map([[key, codecs.decodeNode(f, payload, path, ctx)]]) };
}
