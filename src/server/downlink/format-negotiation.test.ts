import { MemoryCapabilityStore } from '../capabilities/capability-store';
import type { Registration } from '../registration/registration';
import type { FormatFallback } from './format-sink';
import { FormatPolicy } from './formats';
import { CompositeNotSupported, negotiateFormat } from './format-negotiation';
import { baseResult, type OperationResult } from './result';
import { registration } from '../../../test/support/profile-fixtures';

const NOT_ACCEPTABLE = 0x86;
const UNSUPPORTED = 0x8f;
const CONTENT = 0x45;

function setup(): {
  ctx: Parameters<typeof negotiateFormat>[0];
  fallbacks: FormatFallback[];
  errors: string[];
  capabilities: MemoryCapabilityStore;
} {
  const fallbacks: FormatFallback[] = [];
  const errors: string[] = [];
  const capabilities = new MemoryCapabilityStore();
  return {
    ctx: {
      capabilities,
      formats: new FormatPolicy(),
      onFormatFallback: (f) => fallbacks.push(f),
      onError: (_e, c) => errors.push(c),
    },
    fallbacks,
    errors,
    capabilities,
  };
}

/** An attempt that answers `code` for the formats in `refused` and 2.05 otherwise, noting each format. */
function device(refused: ReadonlyMap<number, number>, tried: number[]): (format: number) => Promise<OperationResult> {
  return async (format) => {
    tried.push(format);
    return baseResult(refused.get(format) ?? CONTENT, Buffer.alloc(0));
  };
}

describe('negotiateFormat (RFC 7252 §5.9.2.7 4.06, §5.9.2.9 4.15)', () => {
  const reg: Registration = registration({ supportedContentFormats: [110, 112] });

  it('tries the next format after a refusal, reports it once, and remembers it for the registration', async () => {
    const { ctx, fallbacks, capabilities } = setup();
    const tried: number[] = [];
    const r = await negotiateFormat(ctx, reg, 'single', 'Read', {}, device(new Map([[112, NOT_ACCEPTABLE]]), tried));
    expect(r.result).toBe('CONTENT');
    expect(tried).toEqual([112, 110]);
    expect(fallbacks).toEqual([
      {
        registration: reg,
        operation: 'Read',
        reason: 'NOT_ACCEPTABLE',
        contentFormat: 112,
        fallbackContentFormat: 110,
      },
    ]);
    expect([...(await capabilities.get(reg)).refusedFormats]).toEqual([112]);
    // The next operation starts with the format that works: no second refusal, no second event.
    const again: number[] = [];
    await negotiateFormat(ctx, reg, 'single', 'Write', {}, device(new Map([[112, UNSUPPORTED]]), again));
    expect(again).toEqual([110]);
    expect(fallbacks).toHaveLength(1);
    // Another registration of the same endpoint starts afresh.
    const fresh: number[] = [];
    await negotiateFormat(ctx, { ...reg, id: 'reg-2' }, 'single', 'Read', {}, device(new Map(), fresh));
    expect(fresh).toEqual([112]);
  });

  it('ends with the last refusal when every format is refused', async () => {
    const { ctx, fallbacks } = setup();
    const tried: number[] = [];
    const all = new Map([
      [112, UNSUPPORTED],
      [110, UNSUPPORTED],
      [11542, UNSUPPORTED],
    ]);
    const r = await negotiateFormat(ctx, reg, 'single', 'Write', {}, device(all, tried));
    expect(r.result).toBe('UNSUPPORTED_CONTENT_FORMAT');
    expect(tried).toEqual([112, 110, 11542]);
    expect(fallbacks.map((f) => [f.contentFormat, f.fallbackContentFormat])).toEqual([
      [112, 110],
      [110, 11542],
    ]);
  });

  it('other errors are not a format matter: no retry', async () => {
    const { ctx, fallbacks } = setup();
    const tried: number[] = [];
    const r = await negotiateFormat(ctx, reg, 'single', 'Read', {}, device(new Map([[112, 0x84]]), tried));
    expect(r.result).toBe('NOT_FOUND');
    expect(tried).toEqual([112]);
    expect(fallbacks).toEqual([]);
  });

  it('a format the caller named is used as given, without fallback', async () => {
    const { ctx, fallbacks } = setup();
    const tried: number[] = [];
    const r = await negotiateFormat(
      ctx,
      reg,
      'single',
      'Read',
      { format: 112 },
      device(new Map([[112, NOT_ACCEPTABLE]]), tried),
    );
    expect(r.result).toBe('NOT_ACCEPTABLE');
    expect(tried).toEqual([112]);
    expect(fallbacks).toEqual([]);
  });

  it('a 1.0 client without ct gets TLV, then LwM2M JSON; composite operations are refused before sending', async () => {
    const { ctx } = setup();
    const old = registration({ lwm2mVersion: '1.0' });
    const tried: number[] = [];
    await negotiateFormat(ctx, old, 'single', 'Read', {}, device(new Map([[11542, NOT_ACCEPTABLE]]), tried));
    expect(tried).toEqual([11542, 11543]);
    await expect(negotiateFormat(ctx, old, 'composite', 'Read-Composite', {}, device(new Map(), []))).rejects.toThrow(
      CompositeNotSupported,
    );
  });

  it('an unreachable capability store costs the memory, never the operation', async () => {
    const { ctx, errors } = setup();
    const broken = {
      ...ctx,
      capabilities: {
        get: () => Promise.reject(new Error('redis down')),
        learn: () => Promise.reject(new Error('redis down')),
        registered: () => undefined,
      },
    };
    const tried: number[] = [];
    const r = await negotiateFormat(broken, reg, 'single', 'Read', {}, device(new Map([[112, NOT_ACCEPTABLE]]), tried));
    expect(r.result).toBe('CONTENT');
    expect(tried).toEqual([112, 110]);
    expect(errors).toEqual(['reading what dev-1 lacks: redis down', 'recording that dev-1 refuses 112: redis down']);
  });
});
