/**
 * LwM2M CBOR content format (application/vnd.oma.lwm2m+cbor, 11544), LwM2M-Core 1.2 §7.4.7:
 * nested maps keyed by path ids, e.g. Read /3/0 → {[3, 0]: {0: "Open Mobile Alliance", 9: 100}}.
 * Single-path payloads and the composite operations; the format carries no timestamps.
 */
import { CodecError } from '../../common/errors';
import type { LwM2mNode } from '../node';
import { formatPath, fromIds, pathIds, pathLevel, type LwM2mPath } from '../path';
import { isTreeNodeSupported } from './codec-common';
import { nodeLeaves } from './leaf-nodes';
import { readLwM2mCbor, writeLwM2mCbor } from './lwm2m-cbor-tree';
import { compositeEntries } from './senml/leaves';
import { buildComposite, buildNodeFromRecords } from './senml/nodes';
import { ContentFormat, type CodecContext, type CompositeCodec, type NodeCodec } from './types';

export type LwM2mCborCodec = NodeCodec & CompositeCodec;

export const lwm2mCborCodec: LwM2mCborCodec = {
  format: ContentFormat.LWM2M_CBOR,

  supports: isTreeNodeSupported,

  decode(payload: Buffer, path: LwM2mPath, ctx: CodecContext): LwM2mNode {
    return buildNodeFromRecords(readLwM2mCbor(payload, formatPath(path)), pathIds(path), ctx);
  },

  encode(node: LwM2mNode, path: LwM2mPath): Buffer {
    if (pathLevel(path) === 'root') throw new CodecError('LwM2M CBOR cannot encode a node for the root path', '/');
    return writeLwM2mCbor(nodeLeaves(node, path));
  },

  decodeNodes(payload: Buffer, paths: readonly LwM2mPath[] | null, ctx: CodecContext): Map<string, LwM2mNode | null> {
    return buildComposite(readLwM2mCbor(payload, '/'), paths ? paths.map(pathIds) : null, ctx);
  },

  encodeNodes(nodes: ReadonlyMap<string, LwM2mNode | null>): Buffer {
    return writeLwM2mCbor(compositeEntries(nodes));
  },

  /** Composite requests list the paths with null values: {[3, 0, 9]: null, [1, 0, 1]: null}. */
  encodePaths(paths: readonly LwM2mPath[]): Buffer {
    return writeLwM2mCbor(paths.map((p) => ({ ids: pathIds(p), value: null })));
  },

  decodePaths(payload: Buffer): LwM2mPath[] {
    return readLwM2mCbor(payload, '/').map((r) => {
      if (r.kind !== undefined) throw new CodecError('LwM2M CBOR path list carries a value', r.name);
      return fromIds(r.ids);
    });
  },

  /** LwM2M CBOR has no timestamps: one group, "now". */
  decodeTimestampedNodes(payload: Buffer, ctx: CodecContext) {
    return [{ nodes: buildComposite(readLwM2mCbor(payload, '/'), null, ctx) }];
  },
};
