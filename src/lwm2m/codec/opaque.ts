/**
 * application/octet-stream (Content-Format 42), LwM2M-Core 1.1 §7.4.2: the raw bytes of one OPAQUE
 * single resource or resource instance, without any framing. An empty payload is an empty value.
 * A resource the model types as anything but OPAQUE cannot be carried (CodecError).
 */
import { formatPath, type LwM2mPath } from '../path';
import type { LwM2mNode } from '../node';
import { ContentFormat, type CodecContext, type NodeCodec } from './types';
import {
  checkNodeAtPath,
  fail,
  isLeafNodeSupported,
  leafNode,
  leafOf,
  modelType,
  requireLeafPath,
} from './codec-common';
import { coerceValue } from './value-rules';

function requireOpaque(ctx: CodecContext, path: LwM2mPath): void {
  const type = modelType(ctx, path);
  if (type !== undefined && type !== 'OPAQUE')
    throw fail(`application/octet-stream carries OPAQUE resources only, not ${type}`, path);
}

export function createOpaqueCodec(): NodeCodec {
  return {
    format: ContentFormat.OPAQUE,
    supports(path: LwM2mPath, node?: LwM2mNode): boolean {
      return isLeafNodeSupported(path, node) && (!node || ('type' in node && node.type === 'OPAQUE'));
    },
    decode(payload: Buffer, path: LwM2mPath, ctx: CodecContext): LwM2mNode {
      requireLeafPath(path, 'application/octet-stream');
      requireOpaque(ctx, path);
      // Copy: the payload buffer may be reused by the transport once decoding returns.
      const value = Buffer.from(payload);
      return leafNode(path, 'OPAQUE', value);
    },
    encode(node: LwM2mNode, path: LwM2mPath, ctx: CodecContext): Buffer {
      requireLeafPath(path, 'application/octet-stream');
      checkNodeAtPath(node, path);
      requireOpaque(ctx, path);
      const leaf = leafOf(node, path, 'application/octet-stream');
      return coerceValue(leaf.value, 'OPAQUE', formatPath(path)) as Buffer;
    },
  };
}

export const opaqueCodec: NodeCodec = createOpaqueCodec();
