/**
 * Registration of a pool of simulated devices (POST /rd) through a ClosedLoop: at most `window`
 * outstanding, one per device; a timed-out Register is retried up to `retries` times.
 */
import { performance } from 'node:perf_hooks';
import { ClosedLoop } from './closed-loop';
import { locationOf, registerFrame } from './coap-frames';
import type { DatagramSink, Device } from './device';
import type { ClosedLoopOptions, RegisterReply } from './protocol';
import { SampleBuffer } from './stats';

export interface RegisterOptions {
  readonly loop: ClosedLoopOptions;
  readonly endpointPrefix: string;
  readonly lifetimeS: number;
  readonly retries: number;
  /** The object links (default coap-frames OBJECT_LINKS). */
  readonly links?: string;
}

const wallNow = (): number => performance.timeOrigin + performance.now();

/** Registers every device of `pool`; `setSink` routes the devices' datagrams to the loop. */
export async function registerDevices(
  pool: readonly Device[],
  o: RegisterOptions,
  setSink: (sink: DatagramSink) => void,
): Promise<RegisterReply> {
  const latencies = new SampleBuffer(pool.length);
  const retry: Device[] = [];
  let cursor = 0;
  let registered = 0;
  let failed = 0;
  const cl = new ClosedLoop(o.loop, {
    next() {
      const d = retry.pop() ?? pool[cursor++];
      if (d === undefined) return undefined;
      d.frame = registerFrame(`${o.endpointPrefix}${d.index}`, o.lifetimeS, o.links);
      return d;
    },
    onResponse(d, code, buf, sentAt, now) {
      if (code >> 5 === 2) {
        d.location = locationOf(buf);
        registered++;
        latencies.push(now - sentAt);
      } else failed++;
    },
    onTimeout(d) {
      if (++d.attempts <= o.retries) retry.push(d);
      else failed++;
    },
  });
  setSink(cl.onDatagram);
  const startWallMs = wallNow();
  await cl.run();
  const endWallMs = wallNow();
  return {
    kind: 'registered',
    counters: cl.counters,
    registered,
    failed,
    startWallMs,
    endWallMs,
    latenciesMs: latencies.toArray(),
  };
}
