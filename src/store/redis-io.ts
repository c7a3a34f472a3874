/**
 * The one place the stores talk to Redis: counts every command, reports its latency, runs Lua
 * scripts by EVALSHA with an EVAL fallback on NOSCRIPT (the script cache of a node is empty
 * after a restart or failover), and turns every failure into a StoreError or a retriable
 * StoreUnavailableError (src/common/store-errors.ts) — a bare ioredis error never leaves the store.
 */
import type { Cluster, Redis } from 'ioredis';
import { BridgeError } from '../common/errors';
import { StoreError, StoreUnavailableError } from '../common/store-errors';
import type { LuaScript } from './scripts';
import type { RedisStats, StoreOperation } from './redis-stats';
import { errorMessage } from '../common/error-message';

/** An ioredis client or cluster client (default "legacy"/RESP2 reply mapping). */
export type RedisClient = Redis | Cluster;

type Arg = string | number;

/** The commands the stores use, as both Redis and Cluster type them. */
interface Commands {
  get(key: string): Promise<string | null>;
  getdel(key: string): Promise<string | null>;
  set(key: string, value: string, token: 'PXAT', at: number): Promise<unknown>;
  del(key: string): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  lrange(key: string, start: number, stop: number): Promise<string[]>;
  exists(key: string): Promise<number>;
  set(key: string, value: string, token: 'PX', ms: number): Promise<unknown>;
  hdel(key: string, field: string): Promise<number>;
  pexpire(key: string, ms: number): Promise<number>;
  pexpireat(key: string, at: number): Promise<number>;
  zadd(...args: [key: string, ...data: Arg[]]): Promise<unknown>;
  zcard(key: string): Promise<number>;
  zrange(key: string, start: number, stop: string): Promise<string[]>;
  publish(channel: string, message: string): Promise<number>;
  evalsha(...args: [sha: string, numkeys: number, ...args: Arg[]]): Promise<unknown>;
  eval(...args: [lua: string, numkeys: number, ...args: Arg[]]): Promise<unknown>;
}

/** Redis errors that mean "not now" rather than "never": the operation may be retried. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS|MISCONF|OOM|MOVED|ASK)\b/;

export class RedisIo {
  private readonly commands: Commands;

  constructor(
    client: RedisClient,
    readonly stats: RedisStats,
  ) {
    this.commands = client;
  }

  /** Runs one command of an operation; failures become store errors. */
  async call<T>(op: StoreOperation, command: (c: Commands) => Promise<T>): Promise<T> {
    try {
      return await this.raw(op, command);
    } catch (err) {
      throw storeError(op, err);
    }
  }

  /** Like call, but a failure is only counted: for cleanup whose loss leaves a harmless hint. */
  async bestEffort(op: StoreOperation, command: (c: Commands) => Promise<unknown>): Promise<void> {
    try {
      await this.raw(op, command);
    } catch {
      this.stats.cleanupFailures++;
    }
  }

  /** A script whose failure is only counted (see bestEffort). */
  async bestEffortScript(
    op: StoreOperation,
    script: LuaScript,
    keys: readonly string[],
    args: readonly Arg[],
  ): Promise<void> {
    try {
      await this.script(op, script, keys, args);
    } catch {
      this.stats.cleanupFailures++;
    }
  }

  /** EVALSHA, and EVAL when the node does not have the script yet (which also caches it there). */
  async script(op: StoreOperation, script: LuaScript, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    try {
      return await this.raw(op, (c) => c.evalsha(script.sha, keys.length, ...keys, ...args));
    } catch (err) {
      if (!isNoScript(err)) throw storeError(op, err);
    }
    return this.call(op, (c) => c.eval(script.lua, keys.length, ...keys, ...args));
  }

  private async raw<T>(op: StoreOperation, command: (c: Commands) => Promise<T>): Promise<T> {
    const s = this.stats.operations[op];
    s.commands++;
    this.stats.commands++;
    const started = performance.now();
    try {
      return await command(this.commands);
    } catch (err) {
      s.errors++;
      this.stats.errors++;
      throw err;
    } finally {
      this.stats.onLatency?.(op, performance.now() - started);
    }
  }
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

/** ioredis rejects with ReplyError for "-ERR ..." answers and plain Errors for connection trouble. */
export function storeError(op: StoreOperation, err: unknown): BridgeError {
  if (err instanceof BridgeError) return err;
  const message = errorMessage(err);
  const isReply = err instanceof Error && err.name === 'ReplyError';
  if (isReply && !TRANSIENT_REPLY.test(message)) return new StoreError(`Redis ${op}: ${message}`, err);
  return new StoreUnavailableError(`Redis unavailable (${op}): ${message}`, err);
}
