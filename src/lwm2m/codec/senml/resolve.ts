/**
 * Raw SenML records → resolved records (RFC 8428 §4.6): base name, base time and base value are
 * carried forward to the following records, names are concatenated and parsed as LwM2M paths,
 * relative times are made absolute against "now".
 */
import { CodecError } from '../../../common/errors';
import { normaliseInteger } from '../../value';
import { formatIds } from '../../path';
import { isCanonical, parseName } from './names';
import {
  RELATIVE_TIME_LIMIT,
  SENML_VERSION,
  type RawRecord,
  type RecordValue,
  type ResolvedRecord,
  type ValueKind,
} from './record';

export interface ResolveOptions {
  /** Reference for relative times, Unix ms (default: Date.now()). */
  readonly now?: number;
  /** Accept names ending with "/" (path-only requests). */
  readonly allowTrailingSlash?: boolean;
}

function addBase(base: number | bigint, v: number | bigint): number | bigint {
  if (typeof base === 'number' && typeof v === 'number') {
    const sum = base + v;
    if (Number.isSafeInteger(sum) || !Number.isInteger(base) || !Number.isInteger(v)) return sum;
  }
  if ((typeof base === 'bigint' || Number.isInteger(base)) && (typeof v === 'bigint' || Number.isInteger(v))) {
    return normaliseInteger(BigInt(base) + BigInt(v));
  }
  return Number(base) + Number(v);
}

/** Resolves a pack. `where` names the LwM2M path for error messages. */
export function resolveRecords(
  raw: readonly RawRecord[],
  where: string,
  options: ResolveOptions = {},
): ResolvedRecord[] {
  const now = options.now ?? Date.now();
  const out: ResolvedRecord[] = new Array<ResolvedRecord>(raw.length);
  let bn = '';
  let bt: number | undefined;
  let bv: number | bigint | undefined;
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i] as RawRecord;
    if (r.bver !== undefined && (!Number.isInteger(r.bver) || r.bver < 1 || r.bver > SENML_VERSION)) {
      // RFC 8428 §4.4: a reader MUST NOT use a pack of a version it does not understand.
      throw new CodecError(`unsupported SenML version ${r.bver}`, where);
    }
    if (r.bn !== undefined) bn = r.bn;
    if (r.bt !== undefined) bt = r.bt;
    if (r.bv !== undefined) bv = r.bv;
    // RFC 8428 §4.5.1: the name is the base name followed by the name.
    const written = r.n === undefined ? bn : bn + r.n;
    if (written === '') throw new CodecError(`SenML record ${i} has no name`, where);
    const ids = parseName(written, options.allowTrailingSlash);
    const name = isCanonical(written, ids) ? written : formatIds(ids);

    let kind: ValueKind | undefined = r.kind;
    let value: RecordValue | undefined = r.value;
    // RFC 8428 §4.5.4: the base value is added to the value; a missing value counts as zero.
    if (bv !== undefined && (kind === 'v' || kind === undefined)) {
      value = addBase(bv, kind === 'v' && (typeof value === 'number' || typeof value === 'bigint') ? value : 0);
      kind = 'v';
    }

    let time: number | undefined;
    if (bt !== undefined || r.t !== undefined) {
      // RFC 8428 §4.5.3: base time + time; values below 2^28 are relative to "now".
      const seconds = (bt ?? 0) + (r.t ?? 0);
      if (!Number.isFinite(seconds)) throw new CodecError(`SenML record time is not finite`, name);
      time = Math.round(seconds < RELATIVE_TIME_LIMIT ? now + seconds * 1000 : seconds * 1000);
    }
    out[i] = { name, ids, time, kind, value };
  }
  return out;
}
