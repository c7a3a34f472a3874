/**
 * RPC hand-off between instances over Redis (rpc/rpc-peers.ts): each instance keeps a heartbeat
 * key (instanceAlive, PX = 3 heartbeats) and listens on its own channel (instanceChannel) on a
 * connection of its own (a subscribed connection runs no other command). PUBLISH answers how
 * many listeners got the message, so a gone instance is noticed at the first send.
 *
 * Redis Cluster: PUBLISH is forwarded to every node over the cluster bus, but its reply counts
 * only the subscribers connected to the node that took it (Redis PUBLISH reference: "in a Redis
 * Cluster, only clients that are connected to the same node as the publishing client are
 * included in the count"; spec, "Pub/Sub"). There a count of 0 says nothing, and the heartbeat
 * key decides (publishCountIsNodeLocal). So that the heartbeat means "listening", an instance
 * beats only while its channel is subscribed.
 */
import type { RedisClient } from './redis-io';
import { parsePeerMessage, type PeerMessage, type RpcPeers } from '../rpc/rpc-peers';
import type { RedisKeys } from './keys';
import type { RedisIo } from './redis-io';

export interface RedisPeersOptions {
  readonly self: string;
  readonly io: RedisIo;
  readonly keys: RedisKeys;
  /** A connection of its own (e.g. `redis.duplicate()`), used for nothing else. */
  readonly subscriber: RedisClient;
  /** True on a Redis Cluster: a PUBLISH reply of 0 does not mean nobody listens (see above). */
  readonly publishCountIsNodeLocal?: boolean;
  /** Heartbeat period (ms); an instance counts as gone 3 periods after its last beat. Default 5000. */
  readonly heartbeatMs?: number;
  readonly onMalformed?: (text: string) => void;
}

export class RedisPeers implements RpcPeers {
  readonly self: string;
  private handler: ((message: PeerMessage) => void) | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  /** The channel is subscribed: only then does the heartbeat say this instance can be reached. */
  private listening = false;

  constructor(private readonly opts: RedisPeersOptions) {
    this.self = opts.self;
    const channel = opts.keys.instanceChannel(opts.self);
    opts.subscriber.on('message', (ch: string, text: string) => {
      if (ch !== channel) return;
      const message = parsePeerMessage(text);
      if (message === undefined) opts.onMalformed?.(text);
      else this.handler?.(message);
    });
    const period = opts.heartbeatMs ?? 5000;
    opts.subscriber.on('ready', () => {
      if (this.closed) return;
      opts.subscriber.subscribe(channel).then(
        () => {
          this.listening = true;
          void this.beat(period);
        },
        () => undefined, // the next 'ready' retries
      );
    });
    opts.subscriber.on('close', () => (this.listening = false));
    this.timer = setInterval(() => void this.beat(period), period);
    this.timer.unref();
  }

  async alive(instance: string): Promise<boolean> {
    if (instance === this.self) return !this.closed;
    return (await this.opts.io.call('instance', (c) => c.exists(this.opts.keys.instanceAlive(instance)))) === 1;
  }

  async send(instance: string, message: PeerMessage): Promise<boolean> {
    const n = await this.opts.io.call('instance', (c) =>
      c.publish(this.opts.keys.instanceChannel(instance), JSON.stringify(message)),
    );
    if (n > 0) return true;
    // Cluster: the listener may sit on another node, which got the message all the same.
    return this.opts.publishCountIsNodeLocal === true && (await this.alive(instance));
  }

  onMessage(handler: (message: PeerMessage) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    // Gone at once for the others, rather than after 3 heartbeats.
    await this.opts.io.bestEffort('instance', (c) => c.del(this.opts.keys.instanceAlive(this.self)));
    await this.opts.subscriber.quit().catch(() => this.opts.subscriber.disconnect());
  }

  private async beat(period: number): Promise<void> {
    if (this.closed || !this.listening) return;
    await this.opts.io.bestEffort('instance', (c) =>
      c.set(this.opts.keys.instanceAlive(this.self), String(Date.now()), 'PX', period * 3),
    );
  }
}
