/**
 * ObservationStore in Redis (layout: keys.ts; records: observation-codec.ts).
 *
 * A device's observations live in its observationsByEndpoint hash (the truth, next to the
 * registration, so that the device scripts can see both); observationByToken holds a copy of
 * each, since a notification carries only its token (RFC 7641 §3.2) and must cost one GET.
 * The copy is a hint like every index: the caller checks the registration it names
 * (NotificationHandler: getById, then remove() when it is gone).
 *
 * Write order keeps every crash harmless: add writes the hash (script, only for the current
 * registration) then the copy; remove takes the copy (GETDEL) then the hash entry, so a lost
 * second step leaves an entry no notification matches, which ends with the registration.
 *
 * Round trips: getByToken 0 (cache hit) or 1 GET; add 2; remove 2; listByRegistration 1-2;
 * removeByRegistration 2-3.
 */
import type { Observation, ObservationStore } from '../server/observation/observation-store';
import { StoreError } from '../common/store-errors';
import { ADD_OBSERVATION, REMOVE_BY_REGISTRATION } from './scripts';
import { decodeObservation, encodeObservation } from './observation-codec';
import { replyArray, replyNumber, replyStrings } from './reply';
import { SessionContext, type RedisStoreOptions } from './session-context';

export class RedisObservationStore implements ObservationStore {
  private readonly ctx: SessionContext;

  constructor(opts: RedisStoreOptions) {
    this.ctx = new SessionContext(opts);
  }

  get stats(): SessionContext['stats'] {
    return this.ctx.stats;
  }

  /**
   * Stores an observation of the current registration of its endpoint. Refused with a
   * StoreError when that registration is no longer current (re-registered, de-registered or
   * expired meanwhile): an observation never outlives its session.
   */
  async add(obs: Observation): Promise<void> {
    const { io, keys, cache } = this.ctx;
    this.ctx.stats.operations.addObservation.calls++;
    const text = encodeObservation(obs);
    const deviceKeys = [keys.registrationByEndpoint(obs.endpoint), keys.observationsByEndpoint(obs.endpoint)];
    const reply = await io.script('addObservation', ADD_OBSERVATION, deviceKeys, [obs.registrationId, obs.token, text]);
    if (reply === null)
      throw new StoreError(
        `registration ${obs.registrationId} of "${obs.endpoint}" is not current: observation ${obs.token} not stored`,
      );
    const deadline = replyNumber(reply, 'addObservation');
    await io.call('addObservation', (c) => c.set(keys.observationByToken(obs.token), text, 'PXAT', deadline));
    cache.observationByToken.put(obs.token, obs);
    cache.endpointById.set(obs.registrationId, obs.endpoint);
  }

  /** The notification path: cache, else one GET. */
  async getByToken(token: string): Promise<Observation | undefined> {
    const { io, keys, cache, stats } = this.ctx;
    const s = stats.operations.getObservation;
    s.calls++;
    const cached = cache.observationByToken.get(token);
    if (cached !== undefined) {
      s.cacheHits++;
      return cached;
    }
    const ticket = cache.observationByToken.ticket();
    const text = await io.call('getObservation', (c) => c.get(keys.observationByToken(token)));
    if (text === null) return undefined;
    const obs = this.decodeOrCount(text);
    if (obs === undefined) return undefined;
    cache.observationByToken.fill(token, obs, ticket);
    // The registration lookup that follows (getById) then needs no index read.
    cache.endpointById.set(obs.registrationId, obs.endpoint);
    return obs;
  }

  async remove(token: string): Promise<Observation | undefined> {
    const { io, keys, cache } = this.ctx;
    this.ctx.stats.operations.removeObservation.calls++;
    const known = cache.observationByToken.get(token);
    try {
      const text = await io.call('removeObservation', (c) => c.getdel(keys.observationByToken(token)));
      const obs = text === null ? known : (this.decodeOrCount(text) ?? known);
      if (obs === undefined) return undefined;
      await io.call('removeObservation', (c) => c.hdel(keys.observationsByEndpoint(obs.endpoint), token));
      return text === null ? undefined : obs;
    } finally {
      cache.observationByToken.invalidate(token);
      this.ctx.announce('o', token);
    }
  }

  async listByRegistration(registrationId: string): Promise<Observation[]> {
    const { io, keys } = this.ctx;
    this.ctx.stats.operations.listObservations.calls++;
    const endpoint = await this.ctx.endpointOfId('listObservations', registrationId);
    if (endpoint === undefined) return [];
    const all = await io.call('listObservations', (c) => c.hgetall(keys.observationsByEndpoint(endpoint)));
    const out: Observation[] = [];
    for (const text of Object.values(all)) {
      const obs = this.decodeOrCount(text);
      if (obs?.registrationId === registrationId) out.push(obs);
    }
    return out;
  }

  /**
   * Removes a registration's observations from its device hash (one script), then their token
   * copies. Works after the registration ended: its id index is kept RETIRE_MS for this.
   */
  async removeByRegistration(registrationId: string): Promise<Observation[]> {
    const { io, keys, cache } = this.ctx;
    this.ctx.stats.operations.removeObservations.calls++;
    const endpoint = await this.ctx.endpointOfId('removeObservations', registrationId);
    if (endpoint === undefined) return [];
    const deviceKeys = [keys.registrationByEndpoint(endpoint), keys.observationsByEndpoint(endpoint)];
    const reply = replyArray(
      await io.script('removeObservations', REMOVE_BY_REGISTRATION, deviceKeys, [registrationId]),
      'removeByRegistration',
    );
    const live = replyNumber(reply[0], 'removeByRegistration') === 1;
    const removed: Observation[] = [];
    for (const text of replyStrings(reply[1], 'removeByRegistration')) {
      const obs = this.decodeOrCount(text);
      if (obs !== undefined) removed.push(obs);
    }
    try {
      // While the registration lives, a token copy left behind would still match notifications:
      // then its removal must succeed. Once it has ended, a left-over copy names a dead
      // registration and the notification path drops it.
      await Promise.all([
        ...removed.map((o) =>
          live
            ? io.call('removeObservations', (c) => c.del(keys.observationByToken(o.token)))
            : io.bestEffort('removeObservations', (c) => c.del(keys.observationByToken(o.token))),
        ),
        live
          ? undefined
          : io.bestEffort('removeObservations', (c) => c.del(keys.endpointByRegistrationId(registrationId))),
      ]);
    } finally {
      for (const o of removed) {
        cache.observationByToken.invalidate(o.token);
        this.ctx.announce('o', o.token);
      }
    }
    return removed;
  }

  private decodeOrCount(text: string): Observation | undefined {
    try {
      return decodeObservation(text);
    } catch {
      this.ctx.stats.undecodableRecords++;
      return undefined;
    }
  }
}
