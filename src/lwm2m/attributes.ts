/**
 * Notification attributes for Write-Attributes (LwM2M-Core 1.2 §5.1.2, §6.3.4 / 1.0 §5.1.2):
 * pmin, pmax, gt, lt, st, epmin, epmax (and 1.2's edge, con, hqmax). Sent as Uri-Query;
 * a parameter without value removes the attribute (LwM2M-Core 1.1 §5.1.2).
 */
import { BridgeError } from '../common/errors';

export interface NotificationAttributes {
  readonly pmin?: number | null;
  readonly pmax?: number | null;
  readonly gt?: number | null;
  readonly lt?: number | null;
  readonly st?: number | null;
  readonly epmin?: number | null;
  readonly epmax?: number | null;
  /** LwM2M 1.2: notify on rising (1) or falling (0) edge of a boolean. */
  readonly edge?: number | null;
  /** LwM2M 1.2: 1 = confirmable notifications. */
  readonly con?: number | null;
  /** LwM2M 1.2: maximum historical queue. */
  readonly hqmax?: number | null;
}

export const ATTRIBUTE_NAMES = ['pmin', 'pmax', 'gt', 'lt', 'st', 'epmin', 'epmax', 'edge', 'con', 'hqmax'] as const;
const INTEGER_ATTRIBUTES = new Set(['pmin', 'pmax', 'epmin', 'epmax', 'edge', 'con', 'hqmax']);

export class AttributeError extends BridgeError {
  constructor(message: string) {
    super('LWM2M_BAD_REQUEST', message);
  }
}

/** Validates and renders attributes as Uri-Query strings ("pmin=10", "gt" to unset). */
export function attributesToQuery(attrs: NotificationAttributes): string[] {
  const out: string[] = [];
  for (const name of ATTRIBUTE_NAMES) {
    const v = attrs[name];
    if (v === undefined) continue;
    if (v === null) {
      out.push(name);
      continue;
    }
    if (!Number.isFinite(v)) throw new AttributeError(`attribute ${name} must be a finite number`);
    if (INTEGER_ATTRIBUTES.has(name) && (!Number.isInteger(v) || v < 0))
      throw new AttributeError(`attribute ${name} must be a non-negative integer`);
    if (name === 'st' && v < 0) throw new AttributeError('attribute st must not be negative');
    out.push(`${name}=${v}`);
  }
  const { pmin, pmax, gt, lt, st, epmin, epmax } = attrs;
  // LwM2M-Core 1.2 §5.1.2: pmax ≥ pmin, epmax > epmin, and "lt" + 2 × "st" < "gt".
  if (typeof pmin === 'number' && typeof pmax === 'number' && pmax < pmin)
    throw new AttributeError('pmax must not be less than pmin');
  if (typeof epmin === 'number' && typeof epmax === 'number' && epmax <= epmin)
    throw new AttributeError('epmax must be greater than epmin');
  if (typeof lt === 'number' && typeof gt === 'number' && lt + 2 * (typeof st === 'number' ? st : 0) >= gt) {
    throw new AttributeError('lt + 2*st must be less than gt');
  }
  if (out.length === 0) throw new AttributeError('no attribute given');
  return out;
}
