/**
 * Runs a Redis store suite twice: against the single test Redis (./infra.ts testRedisUrl()) and
 * against a real 3-master Redis Cluster (./redis-cluster.ts), started once per test file in
 * beforeAll and stopped in afterAll. On the cluster every key of a script or multi-key command
 * must share a hash tag (Redis Cluster spec, "Hash tags", "Multi-key operations"), or Redis
 * answers CROSSSLOT: the suites prove the store's key layout keeps to that.
 *
 *   describeRedisTargets('RedisRegistrationStore', (target) => {
 *     it('...', async () => { const c = target().client(); ... });
 *   });
 *
 * The test's own inspections go through the target: KEYS runs on one node only in a cluster, and
 * one EXISTS or DEL over keys of several slots is refused, so keys/exists/deleteKeys ask every
 * master or every key on its own.
 */
import { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../../src/store';
import { testRedisUrl } from './infra';
import { startRedisCluster, type RedisClusterHandle } from './redis-cluster';

export type RedisTargetName = 'single' | 'cluster';

export const REDIS_TARGETS: readonly RedisTargetName[] = ['single', 'cluster'];

export interface RedisClientOptions {
  readonly maxRetriesPerRequest?: number;
}

export interface RedisTarget {
  readonly name: RedisTargetName;
  /** For REDIS_URL: the server, or the cluster's comma-separated seed nodes (REDIS_CLUSTER=true). */
  readonly url: string;
  /** A new client (a Redis, or a Cluster on the cluster target), quit when the target closes. */
  client(options?: RedisClientOptions): RedisClient;
  /** One shared client for the test's own reads and writes. */
  admin(): RedisClient;
  /** The keys matching `pattern` on every master. */
  keys(pattern: string): Promise<string[]>;
  /** How many of `keys` exist (one EXISTS per key: they may lie in different slots). */
  exists(...keys: string[]): Promise<number>;
  /** Deletes every key matching `pattern`, one DEL per key. */
  deleteKeys(pattern: string): Promise<void>;
  close(): Promise<void>;
}

class Target implements RedisTarget {
  private readonly clients: RedisClient[] = [];
  private adminConnection: RedisClient | undefined;

  constructor(
    readonly name: RedisTargetName,
    private readonly cluster: RedisClusterHandle | undefined,
  ) {}

  get url(): string {
    return this.cluster?.url ?? testRedisUrl();
  }

  client(options: RedisClientOptions = {}): RedisClient {
    const c: RedisClient =
      this.cluster === undefined
        ? new Redis(testRedisUrl(), options)
        : new Cluster(
            this.cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
            { scaleReads: 'master', redisOptions: options },
          );
    this.clients.push(c);
    return c;
  }

  async keys(pattern: string): Promise<string[]> {
    const c = this.admin();
    if (!(c instanceof Cluster)) return c.keys(pattern);
    // The master list is known once the client has read CLUSTER SLOTS.
    if (c.status !== 'ready') await new Promise<void>((resolve) => c.once('ready', () => resolve()));
    const perNode = await Promise.all(c.nodes('master').map((node) => node.keys(pattern)));
    return perNode.flat();
  }

  async exists(...keys: string[]): Promise<number> {
    const c = this.admin();
    const each = await Promise.all(keys.map((k) => c.exists(k)));
    return each.reduce((sum, n) => sum + n, 0);
  }

  async deleteKeys(pattern: string): Promise<void> {
    const c = this.admin();
    const found = await this.keys(pattern);
    await Promise.all(found.map((k) => c.del(k)));
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.quit().catch(() => c.disconnect())));
    this.clients.length = 0;
    await this.cluster?.stop();
  }

  admin(): RedisClient {
    this.adminConnection ??= this.client();
    return this.adminConnection;
  }
}

/** Opens a target: the single test Redis, or a freshly started cluster. */
export async function openRedisTarget(name: RedisTargetName): Promise<RedisTarget> {
  return new Target(name, name === 'cluster' ? await startRedisCluster() : undefined);
}

/**
 * describe.each over both targets. `body` gets an accessor for the current target (valid inside
 * tests and hooks). `cleanup` patterns are deleted before the target closes (the single Redis is
 * shared by every suite; a cluster goes away with its data).
 */
export function describeRedisTargets(
  title: string,
  body: (target: () => RedisTarget) => void,
  cleanup: readonly string[] = [],
): void {
  describe.each(REDIS_TARGETS)(`${title} [%s Redis]`, (name) => {
    let current: RedisTarget | undefined;
    const target = (): RedisTarget => {
      if (current === undefined) throw new Error(`the ${name} Redis target is not open (used outside a test or hook?)`);
      return current;
    };
    beforeAll(async () => {
      current = await openRedisTarget(name);
    }, 60_000);
    body(target);
    // Declared after the body's hooks: jest runs afterAll hooks in declaration order.
    afterAll(async () => {
      if (current === undefined) return;
      for (const pattern of cleanup) await current.deleteKeys(pattern).catch(() => undefined);
      await current.close();
    }, 30_000);
  });
}

/** A client of a Redis that is not there (port 1, no retries, no offline queue): every command fails at once. */
export function unreachableRedis(): Redis {
  return new Redis({
    port: 1,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
}
