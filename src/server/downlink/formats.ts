/**
 * Which content format a request uses, from the client's LwM2M version and what it announced
 * (LwM2M-Core 1.2 §7.4: TLV is mandatory for 1.0 clients; a 1.1+ client must support SenML CBOR
 * or SenML JSON or LwM2M CBOR for composite operations and declares them with `ct`).
 *
 * `candidates` orders the formats to fall back through when a device refuses one (4.06 / 4.15,
 * format-negotiation.ts): the announced formats in order of preference, then TLV; for 1.0 TLV,
 * then LwM2M JSON (LwM2M 1.0 §6.4: the two multi-value formats 1.0 defines).
 */
import { ContentFormat } from '../../lwm2m/codec/types';
import type { Registration } from '../registration/registration';

export interface FormatPreferences {
  /** Order of preference for 1.1+ clients (single-path requests). */
  readonly single: readonly number[];
  /** Order of preference for composite requests. */
  readonly composite: readonly number[];
}

export const DEFAULT_PREFERENCES: FormatPreferences = {
  single: [ContentFormat.SENML_CBOR, ContentFormat.SENML_JSON, ContentFormat.LWM2M_CBOR, ContentFormat.TLV],
  composite: [ContentFormat.SENML_CBOR, ContentFormat.SENML_JSON, ContentFormat.LWM2M_CBOR],
};

export class FormatPolicy {
  constructor(private readonly prefs: FormatPreferences = DEFAULT_PREFERENCES) {}

  /** Format for single-path Read/Observe (Accept) and Write/Create (Content-Format). */
  single(reg: Registration): number {
    return this.singleOrder(reg)[0] ?? ContentFormat.TLV;
  }

  /** Format for composite operations; undefined when the client cannot do them. */
  composite(reg: Registration): number | undefined {
    return this.compositeOrder(reg)[0];
  }

  /**
   * Formats to try, best first, leaving out those the device refused. Never empty for single-path
   * requests (when every one was refused, the best is tried again: the device may have changed);
   * empty for composite requests of a 1.0 client.
   */
  candidates(reg: Registration, kind: 'single' | 'composite', refused: ReadonlySet<number>): number[] {
    const order = kind === 'single' ? this.singleOrder(reg) : this.compositeOrder(reg);
    const left = order.filter((f) => !refused.has(f));
    return left.length > 0 ? left : order.slice(0, 1);
  }

  private singleOrder(reg: Registration): number[] {
    if (reg.lwm2mVersion === '1.0') return [ContentFormat.TLV, ContentFormat.JSON];
    const announced = reg.supportedContentFormats;
    const order =
      announced === undefined || announced.length === 0
        ? [...this.prefs.single]
        : this.prefs.single.filter((f) => announced.includes(f));
    if (!order.includes(ContentFormat.TLV)) order.push(ContentFormat.TLV);
    return order;
  }

  private compositeOrder(reg: Registration): number[] {
    if (reg.lwm2mVersion === '1.0') return [];
    const announced = reg.supportedContentFormats;
    if (announced === undefined || announced.length === 0) return [...this.prefs.composite];
    const order = this.prefs.composite.filter((f) => announced.includes(f));
    return order.length > 0 ? order : this.prefs.composite.slice(0, 1);
  }
}
