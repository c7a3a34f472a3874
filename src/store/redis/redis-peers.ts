/**
 * RPC hand-off between instances over Redis (rpc/rpc-peers.ts): each instance keeps a heartbeat
 * key (instanceAlive, PX = 3 heartbeats) and listens on its own channel (instanceChannel) on a
 * connection of its own (a subscribed connection runs no other command). PUBLISH answers how
 * many listeners got the message, so a gone instance is noticed at the first send.
 */
import type { Redis } from 'ioredis';
import { parsePeerMessage, type PeerMessage, type RpcPeers } from '../../rpc/rpc-peers';
import type { RedisKeys } from './keys';
import type { RedisIo } from './redis-io';

export interface RedisPeersOptions {
  readonly self: string;
  readonly io: RedisIo;
  readonly keys: RedisKeys;
  /** A connection of its own (e.g. `redis.duplicate()`), used for nothing else. */
  readonly subscriber: Redis;
  /** Heartbeat period (ms); an instance counts as gone 3 periods after its last beat. Default 5000. */
  readonly heartbeatMs?: number;
  readonly onMalformed?: (text: string) => void;
}

export class RedisPeers implements RpcPeers {
  readonly self: string;
  private handler: ((message: PeerMessage) => void) | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: RedisPeersOptions) {
    this.self = opts.self;
    const channel = opts.keys.instanceChannel(opts.self);
    opts.subscriber.on('message', (ch: string, text: string) => {
      if (ch !== channel) return;
      const message = parsePeerMessage(text);
      if (message === undefined) opts.onMalformed?.(text);
      else this.handler?.(message);
    });
    opts.subscriber.on('ready', () => {
      if (!this.closed) opts.subscriber.subscribe(channel).catch(() => undefined); // the next 'ready' retries
    });
    const period = opts.heartbeatMs ?? 5000;
    this.timer = setInterval(() => void this.beat(period), period);
    this.timer.unref();
    void this.beat(period);
  }

  async alive(instance: string): Promise<boolean> {
    if (instance === this.self) return !this.closed;
    return (await this.opts.io.call('instance', (c) => c.exists(this.opts.keys.instanceAlive(instance)))) === 1;
  }

  async send(instance: string, message: PeerMessage): Promise<boolean> {
    const n = await this.opts.io.call('instance', (c) => c.publish(this.opts.keys.instanceChannel(instance), JSON.stringify(message)));
    return n > 0;
  }

  onMessage(handler: (message: PeerMessage) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    // Gone at once for the others, rather than after 3 heartbeats.
    await this.opts.io.bestEffort('instance', (c) => c.del(this.opts.keys.instanceAlive(this.self)));
    await this.opts.subscriber.quit().catch(() => this.opts.subscriber.disconnect());
  }

  private async beat(period: number): Promise<void> {
    if (this.closed) return;
    await this.opts.io.bestEffort('instance', (c) => c.set(this.opts.keys.instanceAlive(this.self), String(Date.now()), 'PX', period * 3));
  }
}
