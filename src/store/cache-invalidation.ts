/**
 * Keeps this instance's record caches coherent with the writes of the other instances.
 *
 * Every write that changes a registration or removes an observation is announced on the
 * cacheInvalidationChannel (keys.ts; SessionContext.announce). This subscriber, on its own
 * connection (a subscribed connection can run no other command), drops the named copies. Pub/sub
 * delivers at most once: while the subscription is down messages are lost, so the record caches
 * are off from the moment the connection drops until the channel is subscribed again, and are
 * cleared then. What stays cached is thus either announced-fresh or bounded by the cache TTL.
 */
import type { RedisClient } from './redis-io';
import type { RedisStats } from './redis-stats';
import type { InvalidationKind, StoreCache } from './session-context';

export interface CacheInvalidationOptions {
  /** A connection of its own (e.g. `redis.duplicate()`), used for nothing else. */
  readonly subscriber: RedisClient;
  readonly channel: string;
  readonly cache: StoreCache;
  /** This instance: its own messages are skipped (its writes invalidated its cache already). */
  readonly instanceId: string;
  /** Counters (invalidationsApplied, invalidationsMalformed, cacheSuspensions, cacheCoherent). */
  readonly stats: RedisStats;
  readonly onMalformed?: (message: string) => void;
  /** Another instance wrote this registration (Register, Update, or it now sees the device). */
  readonly onRegistrationWrite?: (endpoint: string) => void;
}

export class CacheInvalidation {
  private subscribed = false;
  private closed = false;

  constructor(private readonly opts: CacheInvalidationOptions) {
    const { subscriber } = opts;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === opts.channel) this.apply(message);
    });
    subscriber.on('close', () => this.suspend());
    subscriber.on('ready', () => void this.subscribe());
    // Until subscribed, nothing cached can be trusted to hear of other instances' writes.
    this.setCoherent(false);
  }

  /** Whether the record caches are on (the channel is subscribed). */
  get coherent(): boolean {
    return this.subscribed;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.suspend();
    await this.opts.subscriber.quit().catch(() => this.opts.subscriber.disconnect());
  }

  private async subscribe(): Promise<void> {
    if (this.closed || this.subscribed) return;
    try {
      await this.opts.subscriber.subscribe(this.opts.channel);
    } catch {
      return; // the connection dropped again; its next 'ready' retries
    }
    if (this.closed) return;
    this.subscribed = true;
    this.setCoherent(true);
  }

  private suspend(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    this.opts.stats.cacheSuspensions++;
    this.setCoherent(false);
  }

  private setCoherent(coherent: boolean): void {
    this.opts.stats.cacheCoherent = coherent;
    this.opts.cache.setCoherent(coherent);
  }

  private apply(message: string): void {
    const parsed = parseMessage(message);
    if (parsed === undefined) {
      this.opts.stats.invalidationsMalformed++;
      this.opts.onMalformed?.(message);
      return;
    }
    const [kind, instanceId, key] = parsed;
    if (instanceId === this.opts.instanceId) return;
    this.opts.stats.invalidationsApplied++;
    if (kind === 'r') {
      this.opts.cache.registrationByEndpoint.invalidate(key);
      this.opts.onRegistrationWrite?.(key);
    } else this.opts.cache.observationByToken.invalidate(key);
  }
}

function parseMessage(message: string): [InvalidationKind, string, string] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 3) return undefined;
  const [kind, instanceId, key] = value as unknown[];
  if ((kind !== 'r' && kind !== 'o') || typeof instanceId !== 'string' || typeof key !== 'string') return undefined;
  return [kind, instanceId, key];
}
