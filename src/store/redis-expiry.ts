/**
 * Expiry of registrations across instances (LwM2M-Core 1.2 §6.2.1: a registration ends when
 * its lifetime passes without an Update), each announced exactly once.
 *
 * expiryByShard (keys.ts) holds every registered endpoint, scored with its expiresAt as of its
 * Register. The score is never later than the registration's real expiry: Update only lowers
 * it (ZADD LT, for a shorter lifetime), and a due member whose registration was refreshed is
 * simply re-scored here. A sweep, on any number of instances at once:
 *  1. EXPIRY_LEASE per shard: due members (score < now - grace) are re-scored to a lease
 *     deadline in the same step, so concurrent sweepers get disjoint members.
 *  2. CLAIM_EXPIRED per member, on the device's slot: deletes the registration only if it is
 *     still due. Only a script that deleted it returns it, so each expiry is returned to exactly
 *     one caller, whatever the leases did (a lease that ran out while its holder was slow only
 *     lets a second sweeper find the registration already gone).
 *  3. EXPIRY_SETTLE per shard: claimed or vanished members are removed, refreshed ones get
 *     their real expiresAt — only if the member still carries this lease's score (a Register
 *     that re-scored it in between wins).
 * A sweeper that dies after 1 leaves its members to the others once the lease passes.
 */
import { RETIRE_MS, addressEntry } from './keys';
import { DELETE_IF_EQUAL, CLAIM_EXPIRED, EXPIRY_LEASE, EXPIRY_SETTLE } from './scripts';
import { decodeRegistration, fieldsFromFlat, type StoredRegistration } from './registration-codec';
import { replyArray, replyNumber, replyString, replyStrings } from './reply';
import type { SessionContext } from './session-context';

interface Lease {
  readonly shard: string;
  readonly members: readonly string[];
}

export class ExpiryIndex {
  constructor(private readonly ctx: SessionContext) {}

  /** Claims due registrations (steps 1-3 above); partial failures leave members for later sweeps. */
  async take(now: number, graceMs: number): Promise<StoredRegistration[]> {
    const { io, keys } = this.ctx;
    const leaseUntil = now + this.ctx.expiryLeaseMs;
    const leased = await Promise.allSettled(
      keys.expiryShards().map(async (shard): Promise<Lease> => {
        const reply = await io.script(
          'takeExpired',
          EXPIRY_LEASE,
          [shard],
          [now - graceMs, leaseUntil, this.ctx.expiryBatch],
        );
        return { shard, members: replyStrings(reply, 'expiry lease') };
      }),
    );
    const leases: Lease[] = [];
    for (const r of leased) if (r.status === 'fulfilled' && r.value.members.length > 0) leases.push(r.value);
    const failure = leased.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (leases.length === 0 && failure !== undefined) throw failure.reason;

    const claimed: StoredRegistration[] = [];
    await Promise.all(
      leases.map(async (lease) => {
        const settle: (string | number)[] = [leaseUntil];
        await Promise.all(
          lease.members.map(async (endpoint) => {
            const outcome = await this.claim(endpoint, now, graceMs).catch(() => undefined);
            if (outcome === undefined) return; // Redis trouble: the lease runs out and a later sweep retries
            if (outcome.kind === 'alive') settle.push(endpoint, outcome.expiresAt);
            else settle.push(endpoint, '');
            if (outcome.kind === 'claimed') claimed.push(outcome.stored);
          }),
        );
        if (settle.length > 1) await io.bestEffortScript('takeExpired', EXPIRY_SETTLE, [lease.shard], settle);
      }),
    );
    this.ctx.stats.expiredClaimed += claimed.length;
    return claimed;
  }

  private async claim(endpoint: string, now: number, graceMs: number): Promise<ClaimOutcome> {
    const { io, keys } = this.ctx;
    const reply = replyArray(
      await io.script(
        'takeExpired',
        CLAIM_EXPIRED,
        [keys.registrationByEndpoint(endpoint), keys.observationsByEndpoint(endpoint)],
        [now, graceMs, RETIRE_MS],
      ),
      'claim',
    );
    const state = replyNumber(reply[0], 'claim');
    if (state === 2) return { kind: 'alive', expiresAt: replyString(reply[1], 'claim') };
    if (state !== 1) return { kind: 'gone' };
    let stored: StoredRegistration;
    try {
      stored = decodeRegistration(fieldsFromFlat(replyArray(reply[1], 'claim')));
    } catch {
      return { kind: 'gone' }; // deleted but unreadable (corrupt or newer format): nothing to announce
    }
    const reg = stored.registration;
    this.ctx.cache.registrationByEndpoint.invalidate(endpoint);
    this.ctx.announce('r', endpoint);
    // The id index stays RETIRE_MS so that removeByRegistration(id) can still find the endpoint.
    await Promise.all([
      io.bestEffort('takeExpired', (c) => c.pexpire(keys.endpointByRegistrationId(reg.id), RETIRE_MS)),
      io.bestEffortScript(
        'takeExpired',
        DELETE_IF_EQUAL,
        [keys.endpointByAddress(reg.address, reg.port)],
        [addressEntry(endpoint, stored.meta.version)],
      ),
    ]);
    return { kind: 'claimed', stored };
  }

  /** Registered endpoints (approximate: a de-registered one stays until the next sweep). */
  async count(): Promise<number> {
    const { io, keys } = this.ctx;
    const cards = await Promise.all(keys.expiryShards().map((k) => io.call('count', (c) => c.zcard(k))));
    return cards.reduce((a, b) => a + b, 0);
  }

  /** Endpoints in shard order, then expiry order; for paging through the admin API. */
  async endpoints(offset: number, limit: number): Promise<string[]> {
    const { io, keys } = this.ctx;
    const shards = keys.expiryShards();
    const cards = await Promise.all(shards.map((k) => io.call('list', (c) => c.zcard(k))));
    const out: string[] = [];
    let skip = offset;
    for (let i = 0; i < shards.length && out.length < limit; i++) {
      const card = cards[i] ?? 0;
      if (skip >= card) {
        skip -= card;
        continue;
      }
      const shard = shards[i] as string;
      const members = await io.call('list', (c) => c.zrange(shard, skip, String(skip + (limit - out.length) - 1)));
      out.push(...members);
      skip = 0;
    }
    return out;
  }
}

type ClaimOutcome =
  { kind: 'gone' } | { kind: 'alive'; expiresAt: string } | { kind: 'claimed'; stored: StoredRegistration };
