/**
 * Content-format fallback. A device that cannot produce the format asked for answers 4.06 Not
 * Acceptable (RFC 7252 §5.9.2.7, to an Accept), one that cannot read the payload's format 4.15
 * Unsupported Content-Format (§5.9.2.9). Many embedded clients announce formats they lack, or
 * announce none (LwM2M 1.0 has no `ct`): the operation is tried again in the next format the
 * policy offers (formats.ts `candidates`), the refusal is remembered for the registration
 * (server/capabilities/, so no instance asks in that format again) and reported.
 * A format the caller named (RequestOptions.format) is used as given, without fallback.
 */
import { errorMessage } from '../../common/error-message';
import { BridgeError } from '../../common/errors';
import { NO_FACTS } from '../capabilities/capability-store';
import type { Registration } from '../registration/registration';
import type { DownlinkContext, RequestOptions } from './context';
import type { OperationResult } from './result';

const NOT_ACCEPTABLE = 0x86;
const UNSUPPORTED_CONTENT_FORMAT = 0x8f;

export type FormatKind = 'single' | 'composite';

export class CompositeNotSupported extends BridgeError {
  constructor(reg: Registration) {
    super(
      'LWM2M_BAD_REQUEST',
      `${reg.endpoint} registered with LwM2M ${reg.lwm2mVersion}; composite operations need 1.1 or later`,
    );
  }
}

function isFormatRefusal(code: number): boolean {
  return code === NOT_ACCEPTABLE || code === UNSUPPORTED_CONTENT_FORMAT;
}

/** Runs `attempt` in the first acceptable format, and in the next ones while the device refuses. */
export async function negotiateFormat(
  ctx: Pick<DownlinkContext, 'capabilities' | 'formats' | 'onFormatFallback' | 'onError'>,
  reg: Registration,
  kind: FormatKind,
  operation: string,
  opts: RequestOptions,
  attempt: (format: number) => Promise<OperationResult>,
): Promise<OperationResult> {
  if (opts.format !== undefined) return attempt(opts.format);
  const known = await ctx.capabilities.get(reg).catch((err: unknown) => {
    ctx.onError(err, `reading what ${reg.endpoint} lacks: ${errorMessage(err)}`);
    return NO_FACTS;
  });
  const formats = ctx.formats.candidates(reg, kind, known.refusedFormats);
  if (formats.length === 0) throw new CompositeNotSupported(reg);
  for (let i = 0; ; i++) {
    const format = formats[i] as number;
    const result = await attempt(format);
    if (!isFormatRefusal(result.code)) return result;
    await ctx.capabilities
      .learn(reg, { kind: 'refuses-format', format })
      .catch((err: unknown) =>
        ctx.onError(err, `recording that ${reg.endpoint} refuses ${format}: ${errorMessage(err)}`),
      );
    const next = formats[i + 1];
    if (next === undefined) return result;
    ctx.onFormatFallback({
      registration: reg,
      operation,
      reason: result.result,
      contentFormat: format,
      fallbackContentFormat: next,
    });
  }
}
