/**
 * What the bridge learned a registered device cannot do, so that it is asked only once per
 * registration, by any instance: composite operations it lacks (LwM2M-Core 1.2 §6.3.8, §6.4.1;
 * optional for a client) and content formats it refused with 4.06 Not Acceptable or 4.15
 * Unsupported Content-Format (RFC 7252 §5.9.2.7, §5.9.2.9).
 *
 * Facts belong to one registration: a new Register (perhaps after a firmware update) starts with
 * none. Learning only ever adds a fact, so a stale copy costs at most one more refused request.
 */
import type { Registration } from '../registration/registration';

export const COMPOSITE_OPERATIONS = ['Read-Composite', 'Observe-Composite', 'Write-Composite'] as const;
export type CompositeOperation = (typeof COMPOSITE_OPERATIONS)[number];

export type CapabilityFact =
  | { readonly kind: 'lacks'; readonly operation: CompositeOperation }
  | { readonly kind: 'refuses-format'; readonly format: number };

export interface DeviceCapabilities {
  /** Composite operations the device refused or left unanswered. */
  readonly lacking: ReadonlySet<CompositeOperation>;
  /** Content formats the device refused (4.06 / 4.15). */
  readonly refusedFormats: ReadonlySet<number>;
}

export const NO_FACTS: DeviceCapabilities = { lacking: new Set(), refusedFormats: new Set() };

export interface CapabilityStore {
  /** What is known of this registration (NO_FACTS when nothing). */
  get(reg: Registration): Promise<DeviceCapabilities>;
  /** Adds a fact to this registration's; the facts of an older registration are dropped. */
  learn(reg: Registration, fact: CapabilityFact): Promise<void>;
  /** A registration was just created here: nothing can be known of it yet (saves a read). */
  registered(reg: Registration): void;
}

/** The field name a fact is stored under (Redis hash field, memory set member). */
export function factField(fact: CapabilityFact): string {
  return fact.kind === 'lacks' ? `lacks:${fact.operation}` : `format:${fact.format}`;
}

/** Facts from stored field names; names this version does not know are ignored. */
export function capabilitiesFromFields(fields: Iterable<string>): DeviceCapabilities {
  const lacking = new Set<CompositeOperation>();
  const refusedFormats = new Set<number>();
  for (const field of fields) {
    if (field.startsWith('lacks:')) {
      const op = field.slice(6);
      const known = COMPOSITE_OPERATIONS.find((o) => o === op);
      if (known !== undefined) lacking.add(known);
    } else if (field.startsWith('format:')) {
      const format = Number(field.slice(7));
      if (Number.isInteger(format) && format >= 0 && format <= 65535) refusedFormats.add(format);
    }
  }
  return { lacking, refusedFormats };
}

/** In-memory CapabilityStore for embedded mode and unit tests. */
export class MemoryCapabilityStore implements CapabilityStore {
  private readonly byEndpoint = new Map<string, { readonly registrationId: string; readonly fields: Set<string> }>();

  async get(reg: Registration): Promise<DeviceCapabilities> {
    const entry = this.byEndpoint.get(reg.endpoint);
    return entry?.registrationId === reg.id ? capabilitiesFromFields(entry.fields) : NO_FACTS;
  }

  async learn(reg: Registration, fact: CapabilityFact): Promise<void> {
    let entry = this.byEndpoint.get(reg.endpoint);
    if (entry?.registrationId !== reg.id)
      this.byEndpoint.set(reg.endpoint, (entry = { registrationId: reg.id, fields: new Set() }));
    entry.fields.add(factField(fact));
  }

  registered(): void {
    // A new registration id finds no entry of its own: nothing to do.
  }
}
