/**
 * Observations by token. Notifications are matched by token alone (RFC 7641 §3.2), so any
 * instance that can read this store can take a device's notification.
 */
export interface Observation {
  /** Token, hex. */
  readonly token: string;
  readonly registrationId: string;
  readonly endpoint: string;
  /** Single path observe, or Observe-Composite (LwM2M-Core 1.2 §6.4.1). */
  readonly kind: 'single' | 'composite';
  /** Formatted paths ("/3/0/9"). */
  readonly paths: readonly string[];
  /** Content format requested with Accept, if any. */
  readonly contentFormat?: number;
  readonly createdAt: number;
  /** "rpc": created by an RPC request (its unmapped values become notification events); absent: by the profile. */
  readonly origin?: 'rpc';
}

export interface ObservationStore {
  add(obs: Observation): Promise<void>;
  getByToken(token: string): Promise<Observation | undefined>;
  remove(token: string): Promise<Observation | undefined>;
  listByRegistration(registrationId: string): Promise<Observation[]>;
  /** Removes every observation of a registration (deregistration, expiry, replacement). */
  removeByRegistration(registrationId: string): Promise<Observation[]>;
}

export class MemoryObservationStore implements ObservationStore {
  private readonly byToken = new Map<string, Observation>();
  private readonly byRegistration = new Map<string, Set<string>>();

  async add(obs: Observation): Promise<void> {
    this.byToken.set(obs.token, obs);
    let set = this.byRegistration.get(obs.registrationId);
    if (set === undefined) this.byRegistration.set(obs.registrationId, (set = new Set()));
    set.add(obs.token);
  }

  async getByToken(token: string): Promise<Observation | undefined> {
    return this.byToken.get(token);
  }

  async remove(token: string): Promise<Observation | undefined> {
    const obs = this.byToken.get(token);
    if (obs === undefined) return undefined;
    this.byToken.delete(token);
    this.byRegistration.get(obs.registrationId)?.delete(token);
    return obs;
  }

  async listByRegistration(registrationId: string): Promise<Observation[]> {
    const tokens = this.byRegistration.get(registrationId) ?? new Set<string>();
    return [...tokens].map((t) => this.byToken.get(t)).filter((o): o is Observation => o !== undefined);
  }

  async removeByRegistration(registrationId: string): Promise<Observation[]> {
    const list = await this.listByRegistration(registrationId);
    for (const o of list) this.byToken.delete(o.token);
    this.byRegistration.delete(registrationId);
    return list;
  }
}
