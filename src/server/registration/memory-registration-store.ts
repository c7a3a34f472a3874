/**
 * In-memory RegistrationStore for embedded mode and unit tests. Single-threaded JavaScript
 * makes each method atomic.
 */
import type { Registration } from './registration';
import {
  indexedByAddress,
  type RegisterResult,
  type RegistrationChanges,
  type RegistrationStore,
  type UpdateResult,
} from './registration-store';

export class MemoryRegistrationStore implements RegistrationStore {
  private readonly byId = new Map<string, Registration>();
  private readonly idByEndpoint = new Map<string, string>();
  private readonly idByAddress = new Map<string, string>();

  async register(reg: Registration): Promise<RegisterResult> {
    const oldId = this.idByEndpoint.get(reg.endpoint);
    const replaced = oldId === undefined ? undefined : this.byId.get(oldId);
    if (replaced !== undefined) this.unindex(replaced);
    this.byId.set(reg.id, reg);
    this.idByEndpoint.set(reg.endpoint, reg.id);
    if (indexedByAddress(reg)) this.idByAddress.set(addressKey(reg.address, reg.port), reg.id);
    return replaced ? { replaced } : {};
  }

  async update(id: string, changes: RegistrationChanges, now: number): Promise<UpdateResult | undefined> {
    const before = this.byId.get(id);
    if (before === undefined) return undefined;
    const lifetime = changes.lifetime ?? before.lifetime;
    const after: Registration = { ...before, ...changes, lastUpdate: now, expiresAt: now + lifetime * 1000 };
    this.byId.set(id, after);
    if (after.address !== before.address || after.port !== before.port) {
      const oldKey = addressKey(before.address, before.port);
      if (this.idByAddress.get(oldKey) === id) this.idByAddress.delete(oldKey);
      if (indexedByAddress(after)) this.idByAddress.set(addressKey(after.address, after.port), id);
    }
    return { before, after };
  }

  async deregister(id: string): Promise<Registration | undefined> {
    const reg = this.byId.get(id);
    if (reg === undefined) return undefined;
    this.unindex(reg);
    return reg;
  }

  private unindex(reg: Registration): void {
    this.byId.delete(reg.id);
    if (this.idByEndpoint.get(reg.endpoint) === reg.id) this.idByEndpoint.delete(reg.endpoint);
    const key = addressKey(reg.address, reg.port);
    if (this.idByAddress.get(key) === reg.id) this.idByAddress.delete(key);
  }

  async getByAddress(address: string, port: number): Promise<Registration | undefined> {
    const id = this.idByAddress.get(addressKey(address, port));
    return id === undefined ? undefined : this.byId.get(id);
  }

  async getById(id: string): Promise<Registration | undefined> {
    return this.byId.get(id);
  }

  async getByEndpoint(endpoint: string): Promise<Registration | undefined> {
    const id = this.idByEndpoint.get(endpoint);
    return id === undefined ? undefined : this.byId.get(id);
  }

  async takeExpired(now: number, graceMs: number): Promise<Registration[]> {
    const out: Registration[] = [];
    for (const reg of this.byId.values()) if (reg.expiresAt + graceMs < now) out.push(reg);
    for (const reg of out) await this.deregister(reg.id);
    return out;
  }

  async count(): Promise<number> {
    return this.byId.size;
  }

  async list(offset: number, limit: number): Promise<Registration[]> {
    return [...this.byId.values()].slice(offset, offset + limit);
  }
}

const addressKey = (address: string, port: number): string => `${address}|${port}`;
