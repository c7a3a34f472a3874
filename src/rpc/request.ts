/**
 * An RPC request record, validated: the zod schema (src/contract/rpc-records.ts), then what
 * each method needs (a target, a value, attributes...). Every rejection names the field, and
 * keeps whatever id, endpoint and method could be read, so the BAD_REQUEST response reaches the
 * caller that sent it.
 */
import type { ZodIssue } from 'zod';
import {
  CONTENT_FORMAT_NAMES,
  rpcRequestRecordSchema,
  type RpcMethod,
  type RpcParams,
  type RpcRequestRecord,
} from '../contract/rpc-records';
import { errorMessage } from '../common/error-message';

export interface RpcRequest extends RpcRequestRecord {
  /** contentFormat as a number. */
  readonly format?: number;
}

export interface RpcRejection {
  readonly id?: string;
  readonly endpoint?: string;
  readonly method?: string;
  /** What is wrong, naming the field ("params.id: ..."). */
  readonly error: string;
}

type Need = 'target' | 'targets' | 'none';

/** What a method addresses: one path (`id`/`key`), several (`ids`/`keys`), or nothing. */
export const METHOD_TARGET: Readonly<Record<RpcMethod, Need>> = {
  Read: 'target',
  Discover: 'target',
  WriteReplace: 'target',
  WriteUpdate: 'target',
  WriteAttributes: 'target',
  Execute: 'target',
  Create: 'target',
  Delete: 'target',
  Observe: 'target',
  ObserveCancel: 'target',
  ReadComposite: 'targets',
  ObserveComposite: 'targets',
  ObserveCompositeCancel: 'targets',
  WriteComposite: 'none',
  DiscoverAll: 'none',
  ObserveCancelAll: 'none',
  ObserveReadAll: 'none',
};

function issueText(i: ZodIssue): string {
  const field = i.path.length > 0 ? i.path.join('.') : 'record';
  if (i.code === 'unrecognized_keys') return `${field}: unknown field(s) ${i.keys.join(', ')}`;
  if (i.code === 'invalid_enum_value')
    return `${field}: ${JSON.stringify(i.received)} is not one of ${i.options.join(', ')}`;
  return `${field}: ${i.message}`;
}

function stringField(o: unknown, name: string): string | undefined {
  if (typeof o !== 'object' || o === null) return undefined;
  const v = (o as Record<string, unknown>)[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function partial(raw: unknown, error: string): RpcRejection {
  const id = stringField(raw, 'id');
  const endpoint = stringField(raw, 'endpoint');
  const method = stringField(raw, 'method');
  return { ...(id ? { id } : {}), ...(endpoint ? { endpoint } : {}), ...(method ? { method } : {}), error };
}

function methodError(method: RpcMethod, p: RpcParams): string | undefined {
  const need = METHOD_TARGET[method];
  if (need === 'target' && p.id === undefined && p.key === undefined)
    return `params.id: ${method} needs "id" (a path) or "key" (a profile key)`;
  if (need === 'targets' && p.ids === undefined && p.keys === undefined)
    return `params.ids: ${method} needs "ids" (paths) or "keys" (profile keys)`;
  switch (method) {
    case 'WriteReplace':
    case 'WriteUpdate':
      return p.value === undefined ? `params.value: ${method} needs a value` : undefined;
    case 'WriteComposite':
      return p.nodes === undefined || Object.keys(p.nodes).length === 0
        ? 'params.nodes: WriteComposite needs {"<path or key>": value, ...}'
        : undefined;
    case 'WriteAttributes':
      return p.attributes === undefined || Object.keys(p.attributes).length === 0
        ? 'params.attributes: WriteAttributes needs at least one of pmin, pmax, gt, lt, st, epmin, epmax'
        : undefined;
    case 'Create':
      return p.value === undefined && p.nodes === undefined
        ? 'params.value: Create needs the new instance\'s resources ("value") or instances by id ("nodes")'
        : undefined;
    case 'Execute':
      return p.value !== undefined && typeof p.value !== 'string' && typeof p.value !== 'number'
        ? 'params.value: Execute arguments are text'
        : undefined;
    default:
      return undefined;
  }
}

function formatOf(p: RpcParams): number | string | undefined {
  const f = p.contentFormat;
  if (f === undefined || typeof f === 'number') return f;
  const n = CONTENT_FORMAT_NAMES[f.toUpperCase()];
  return (
    n ??
    `params.contentFormat: unknown format "${f}" (one of ${Object.keys(CONTENT_FORMAT_NAMES).join(', ')}, or a number)`
  );
}

/** Parses and validates one record value (JSON text). */
export function parseRpcRequest(value: Buffer | string | null): RpcRequest | RpcRejection {
  if (value === null) return { error: 'record: empty value (tombstone); expected a JSON request' };
  let raw: unknown;
  try {
    raw = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    return { error: `record: not JSON (${errorMessage(err)})` };
  }
  const parsed = rpcRequestRecordSchema.safeParse(raw);
  if (!parsed.success) return partial(raw, parsed.error.issues.map(issueText).join('; '));
  const req = parsed.data;
  const bad = methodError(req.method, req.params);
  if (bad !== undefined) return partial(raw, bad);
  const format = formatOf(req.params);
  if (typeof format === 'string') return partial(raw, format);
  return format === undefined ? req : { ...req, format };
}

export function isRejection(r: RpcRequest | RpcRejection): r is RpcRejection {
  return 'error' in r;
}
