/**
 * Which content format a request uses, from the client's LwM2M version and what it announced
 * (LwM2M-Core 1.2 §7.4: TLV is mandatory for 1.0 clients; a 1.1+ client must support SenML CBOR
 * or SenML JSON or LwM2M CBOR for composite operations and declares them with `ct`).
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
    if (reg.lwm2mVersion === '1.0') return ContentFormat.TLV;
    return this.pick(reg, this.prefs.single) ?? ContentFormat.TLV;
  }

  /** Format for composite operations; undefined when the client cannot do them. */
  composite(reg: Registration): number | undefined {
    if (reg.lwm2mVersion === '1.0') return undefined;
    return this.pick(reg, this.prefs.composite) ?? this.prefs.composite[0];
  }

  private pick(reg: Registration, order: readonly number[]): number | undefined {
    const announced = reg.supportedContentFormats;
    if (announced === undefined || announced.length === 0) return order[0];
    return order.find((f) => announced.includes(f));
  }
}
