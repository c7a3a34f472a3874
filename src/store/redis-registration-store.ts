/**
 * RegistrationStore in Redis, shared by every bridge instance (layout: keys.ts; scripts:
 * scripts.ts; records: registration-codec.ts).
 *
 * Round trips (a round trip = one or more commands sent together and awaited together):
 *   register      3: [ZADD expiry, SET id index] → REGISTER script → [SET_IF_NEWER address
 *                    index, + cleanup of the replaced registration's entries when it replaced one]
 *   update        2: UPDATE script → [SET id index, SET_IF_NEWER address index, ZADD LT expiry,
 *                    PEXPIREAT per token] (+1 GET id index when the id is not in the hint cache)
 *   deregister    2: DEREGISTER script → [cleanup] (+1 GET id index without a hint)
 *   getById       0 on a cache hit; 1 HGETALL with an id hint; 2 without (GET id index first)
 *   getByAddress  0 on a cache hit; 1 HGETALL with an address hint; 2 without
 *   getByEndpoint 0 on a cache hit; 1 HGETALL (a Register caches the state it wrote)
 * The expiry and id indexes are written before the Register script (an index written for a
 * Register that then fails points to nothing and expires); the address index after the scripts,
 * because its entry carries the write version the script assigns (scripts.ts).
 */
import type { Registration } from '../server/registration/registration';
import {
  indexedByAddress,
  type RegisterResult,
  type RegistrationChanges,
  type RegistrationStore,
  type UpdateResult,
} from '../server/registration/registration-store';
import { StoreError } from '../common/store-errors';
import { RETIRE_MS, addressEntry, endpointOfAddressEntry, indexDeadline } from './keys';
import { DELETE_IF_EQUAL, DEREGISTER, MARK_SEEN, REGISTER, SET_IF_NEWER, UPDATE } from './scripts';
import {
  applyChanges,
  decodeRegistration,
  encodeChanges,
  encodeRegistration,
  fieldsFromFlat,
  fieldsFromObject,
  type StoredRegistration,
} from './registration-codec';
import { ExpiryIndex } from './redis-expiry';
import { replyArray, replyNumber, replyStrings } from './reply';
import type { StoreOperation } from './redis-stats';
import { SessionContext, type RedisStoreOptions } from './session-context';

/** Cache entries examined per cache and expiry sweep when releasing expired ones (≈ 1 ms of work at most). */
const CACHE_PRUNE_SCAN = 4096;

export class RedisRegistrationStore implements RegistrationStore {
  private readonly ctx: SessionContext;
  private readonly expiry: ExpiryIndex;

  constructor(opts: RedisStoreOptions) {
    this.ctx = new SessionContext(opts);
    this.expiry = new ExpiryIndex(this.ctx);
  }

  get stats(): SessionContext['stats'] {
    return this.ctx.stats;
  }

  async register(reg: Registration): Promise<RegisterResult> {
    const { io, keys, cache } = this.ctx;
    this.ctx.stats.operations.register.calls++;
    const ep = reg.endpoint;
    const deadline = indexDeadline(reg.expiresAt, reg.lifetime, this.ctx.graceMs);
    const ticket = cache.registrationByEndpoint.ticket();
    let stored = false;
    try {
      // Before the script: should it never run, these point to nothing and expire (keys.ts).
      await Promise.all([
        io.call('register', (c) => c.zadd(keys.expiryOf(ep), reg.expiresAt, ep)),
        io.call('register', (c) => c.set(keys.endpointByRegistrationId(reg.id), ep, 'PXAT', deadline)),
      ]);
      const meta = ['dl', String(deadline), 'in', this.ctx.instanceId, 'sn', String(reg.lastUpdate)];
      const [versionReply, oldReply] = replyArray(
        await io.script('register', REGISTER, this.deviceKeys(ep), [deadline, ...encodeRegistration(reg), ...meta]),
        'register',
      );
      const version = replyNumber(versionReply, 'register');
      const old = fieldsFromFlat(replyArray(oldReply, 'register'));
      const replaced = old.size === 0 ? undefined : this.decodeOrCount(old);
      await Promise.all([
        this.setAddress(reg, version, deadline, 'register'),
        replaced ? this.retire(replaced, reg) : undefined,
      ]);
      stored = true;
      return replaced ? { replaced: replaced.registration } : {};
    } finally {
      // The state just written is the newest unless another write overlapped: cached, the Register's
      // setup and RPC drain read it without an HGETALL (ReadThroughCache.putWritten).
      if (stored) cache.registrationByEndpoint.putWritten(ep, reg, ticket);
      else cache.registrationByEndpoint.invalidate(ep);
      this.ctx.announce('r', ep);
      cache.endpointById.set(reg.id, ep);
      if (indexedByAddress(reg)) cache.endpointByAddress.set(addressHint(reg.address, reg.port), ep);
    }
  }

  async update(id: string, changes: RegistrationChanges, now: number): Promise<UpdateResult | undefined> {
    const { io, keys, cache } = this.ctx;
    this.ctx.stats.operations.update.calls++;
    const ep = await this.ctx.endpointOfId('update', id);
    if (ep === undefined) return undefined;
    try {
      const args = [id, now, this.ctx.graceMs, this.ctx.instanceId, ...encodeChanges(changes)];
      const reply = await io.script('update', UPDATE, this.deviceKeys(ep), args);
      if (reply === null) return undefined; // not current: a Register or De-register won the race
      const [versionReply, dlReply, beforeReply, tokensReply] = replyArray(reply, 'update');
      const version = replyNumber(versionReply, 'update');
      const deadline = replyNumber(dlReply, 'update');
      const before = decodeRegistration(fieldsFromFlat(replyArray(beforeReply, 'update')));
      const after = applyChanges(before.registration, changes, now);
      const moved = after.address !== before.registration.address || after.port !== before.registration.port;
      await Promise.all([
        io.call('update', (c) => c.set(keys.endpointByRegistrationId(id), ep, 'PXAT', deadline)),
        this.setAddress(after, version, deadline, 'update'),
        // Only ever lowers the score (a shorter lifetime); a later expiry is found by the sweep.
        io.call('update', (c) => c.zadd(keys.expiryOf(ep), 'LT', after.expiresAt, ep)),
        moved ? this.dropAddress(before, 'update') : undefined,
        ...replyStrings(tokensReply, 'update').map((t) =>
          io.bestEffort('update', (c) => c.pexpireat(keys.observationByToken(t), deadline)),
        ),
      ]);
      if (indexedByAddress(after)) cache.endpointByAddress.set(addressHint(after.address, after.port), ep);
      return { before: before.registration, after };
    } finally {
      cache.registrationByEndpoint.invalidate(ep);
      this.ctx.announce('r', ep);
    }
  }

  async deregister(id: string): Promise<Registration | undefined> {
    const { io, keys, cache } = this.ctx;
    this.ctx.stats.operations.deregister.calls++;
    const ep = await this.ctx.endpointOfId('deregister', id);
    if (ep === undefined) return undefined;
    try {
      const reply = await io.script('deregister', DEREGISTER, this.deviceKeys(ep), [id, RETIRE_MS]);
      if (reply === null) return undefined;
      const stored = decodeRegistration(fieldsFromFlat(replyArray(reply, 'deregister')));
      await Promise.all([
        // The id index stays RETIRE_MS so that removeByRegistration(id) can still find the endpoint.
        io.bestEffort('deregister', (c) => c.pexpire(keys.endpointByRegistrationId(id), RETIRE_MS)),
        this.dropAddress(stored, 'deregister'),
        // Due at once: the next sweep drops the member, or re-scores it for a newer registration.
        io.bestEffort('deregister', (c) => c.zadd(keys.expiryOf(ep), 'XX', 0, ep)),
      ]);
      return stored.registration;
    } finally {
      cache.registrationByEndpoint.invalidate(ep);
      this.ctx.announce('r', ep);
    }
  }

  async getByEndpoint(endpoint: string): Promise<Registration | undefined> {
    const s = this.ctx.stats.operations.getByEndpoint;
    s.calls++;
    const cached = this.ctx.cache.registrationByEndpoint.get(endpoint);
    if (cached !== undefined) {
      s.cacheHits++;
      return cached;
    }
    return this.load('getByEndpoint', endpoint);
  }

  async getById(id: string): Promise<Registration | undefined> {
    const { cache, stats } = this.ctx;
    const s = stats.operations.getById;
    s.calls++;
    const hinted = cache.endpointById.get(id);
    if (hinted !== undefined) {
      const cached = cache.registrationByEndpoint.get(hinted);
      if (cached?.id === id) {
        s.cacheHits++;
        return cached;
      }
    }
    const ep = await this.ctx.endpointOfId('getById', id);
    if (ep === undefined) return undefined;
    const reg = await this.load('getById', ep);
    if (reg?.id === id) return reg;
    if (hinted === undefined) stats.staleIndexEntries++;
    return undefined;
  }

  async getByAddress(address: string, port: number): Promise<Registration | undefined> {
    const { cache, stats, io, keys } = this.ctx;
    const s = stats.operations.getByAddress;
    s.calls++;
    const hint = addressHint(address, port);
    const hinted = cache.endpointByAddress.get(hint);
    if (hinted !== undefined) {
      const cached = cache.registrationByEndpoint.get(hinted);
      if (cached !== undefined && at(cached, address, port)) {
        s.cacheHits++;
        return cached;
      }
      const checked = await this.load('getByAddress', hinted);
      if (checked !== undefined && at(checked, address, port)) return checked;
      cache.endpointByAddress.delete(hint);
    }
    const key = keys.endpointByAddress(address, port);
    const entry = await io.call('getByAddress', (c) => c.get(key));
    if (entry === null) return undefined;
    const ep = endpointOfAddressEntry(entry);
    // Read after the entry (never reuse the read above): only a device state newer than the
    // entry may call it stale, or the repair below could delete an entry just written.
    const reg = ep === undefined ? undefined : await this.load('getByAddress', ep);
    if (reg !== undefined && at(reg, address, port)) {
      cache.endpointByAddress.set(hint, reg.endpoint);
      return reg;
    }
    stats.staleIndexEntries++;
    await io.bestEffortScript('getByAddress', DELETE_IF_EQUAL, [key], [entry]);
    return undefined;
  }

  async takeExpired(now: number, graceMs: number): Promise<Registration[]> {
    this.ctx.stats.operations.takeExpired.calls++;
    // The server calls this every expiry sweep: a bounded pass also releases expired cache entries,
    // which nothing else would remove while their devices are idle.
    this.ctx.cache.pruneExpired(CACHE_PRUNE_SCAN);
    const claimed = await this.expiry.take(now, graceMs);
    return claimed.map((c) => c.registration);
  }

  async count(): Promise<number> {
    this.ctx.stats.operations.count.calls++;
    return this.expiry.count();
  }

  async list(offset: number, limit: number): Promise<Registration[]> {
    const { io, keys } = this.ctx;
    this.ctx.stats.operations.list.calls++;
    const endpoints = await this.expiry.endpoints(offset, limit);
    const records = await Promise.all(
      endpoints.map((ep) => io.call('list', (c) => c.hgetall(keys.registrationByEndpoint(ep)))),
    );
    const out: Registration[] = [];
    for (const r of records) {
      if (Object.keys(r).length === 0) continue; // de-registered, not yet swept
      const stored = this.decodeOrCount(fieldsFromObject(r));
      if (stored !== undefined) out.push(stored.registration);
    }
    return out;
  }

  /**
   * Records that this instance saw the device now (which instance last saw a device is how a
   * downlink finds the socket the device talks to). Register and Update record it themselves.
   * Not part of RegistrationStore.
   */
  async markSeen(endpoint: string, now: number): Promise<boolean> {
    this.ctx.stats.operations.markSeen.calls++;
    const reply = await this.ctx.io.script(
      'markSeen',
      MARK_SEEN,
      [this.ctx.keys.registrationByEndpoint(endpoint)],
      [this.ctx.instanceId, now],
    );
    // The device moved here: the instance that saw it before must stop taking itself for its owner.
    if (reply === 2) this.ctx.announce('r', endpoint);
    return reply === 1 || reply === 2;
  }

  /** Which instance last saw the device, and when (ms); undefined when not registered. */
  async lastSeen(endpoint: string): Promise<{ instanceId: string; at: number } | undefined> {
    this.ctx.stats.operations.getByEndpoint.calls++;
    const [instanceId, seen] = await this.ctx.io.call('getByEndpoint', (c) =>
      c.hmget(this.ctx.keys.registrationByEndpoint(endpoint), 'in', 'sn'),
    );
    return instanceId === null || instanceId === undefined || seen === null || seen === undefined
      ? undefined
      : { instanceId, at: Number(seen) };
  }

  /** One HGETALL; fills the cache unless a write of this instance overlapped the read. */
  private async load(op: StoreOperation, endpoint: string): Promise<Registration | undefined> {
    const { cache, io, keys } = this.ctx;
    const ticket = cache.registrationByEndpoint.ticket();
    const fields = await io.call(op, (c) => c.hgetall(keys.registrationByEndpoint(endpoint)));
    if (Object.keys(fields).length === 0) return undefined;
    const { registration } = decodeRegistration(fieldsFromObject(fields));
    if (registration.endpoint !== endpoint)
      throw new StoreError(`registration record under "${endpoint}" names "${registration.endpoint}"`);
    cache.registrationByEndpoint.fill(endpoint, registration, ticket);
    cache.endpointById.set(registration.id, endpoint);
    return registration;
  }

  /** Cleanup after a Register replaced `old` with `next`; losing it leaves only stale hints. */
  private async retire(old: StoredRegistration, next: Registration): Promise<void> {
    const { io, keys } = this.ctx;
    const o = old.registration;
    await Promise.all([
      o.id !== next.id
        ? io.bestEffort('register', (c) => c.pexpire(keys.endpointByRegistrationId(o.id), RETIRE_MS))
        : undefined,
      o.address !== next.address || o.port !== next.port ? this.dropAddress(old, 'register') : undefined,
    ]);
  }

  /** Points the address index at a device state, unless a newer write got there first (plaintext only: see indexedByAddress). */
  private async setAddress(reg: Registration, version: number, deadline: number, op: StoreOperation): Promise<void> {
    if (!indexedByAddress(reg)) return;
    const key = this.ctx.keys.endpointByAddress(reg.address, reg.port);
    await this.ctx.io.script(op, SET_IF_NEWER, [key], [addressEntry(reg.endpoint, version), version, deadline]);
  }

  /** Removes the address index entry a registration state wrote, unless a newer write replaced it. */
  private async dropAddress(state: StoredRegistration, op: StoreOperation): Promise<void> {
    const r = state.registration;
    if (!indexedByAddress(r)) return;
    const hint = addressHint(r.address, r.port);
    if (this.ctx.cache.endpointByAddress.get(hint) === r.endpoint) this.ctx.cache.endpointByAddress.delete(hint);
    await this.ctx.io.bestEffortScript(
      op,
      DELETE_IF_EQUAL,
      [this.ctx.keys.endpointByAddress(r.address, r.port)],
      [addressEntry(r.endpoint, state.meta.version)],
    );
  }

  /** A record this bridge cannot read (corrupt, or a newer format) is counted and skipped. */
  private decodeOrCount(fields: ReadonlyMap<string, string>): StoredRegistration | undefined {
    try {
      return decodeRegistration(fields);
    } catch {
      this.ctx.stats.undecodableRecords++;
      return undefined;
    }
  }

  private deviceKeys(endpoint: string): string[] {
    return [this.ctx.keys.registrationByEndpoint(endpoint), this.ctx.keys.observationsByEndpoint(endpoint)];
  }
}

function at(reg: Registration, address: string, port: number): boolean {
  return reg.address === address && reg.port === port;
}

function addressHint(address: string, port: number): string {
  return `${address}|${port}`;
}
