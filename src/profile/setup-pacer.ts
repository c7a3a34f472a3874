/**
 * Paces the requests device setups send (Read, Read-Composite, Write-Attributes, Observe,
 * Observe-Composite, Cancel Observation), so that a registration storm (a fleet registering again
 * after an outage) does not become a burst of setup requests:
 * - at most one outstanding per device (NSTART = 1, RFC 7252 §4.7): a second request for an
 *   endpoint waits until the first is answered or given up;
 * - at most `maxOutstanding` outstanding across all devices (PROFILE_SETUP_MAX_OUTSTANDING).
 * Store lookups (registration, observations, capabilities) pass through unpaced.
 */
import type { DeviceManagement } from './device-management';

/** The operations that send a request to the device. */
const REQUESTS: ReadonlySet<PropertyKey> = new Set<keyof DeviceManagement>([
  'read',
  'readComposite',
  'writeAttributes',
  'observe',
  'observeComposite',
  'cancelObservations',
]);

export interface SetupPacerStats {
  /** Setup requests outstanding now, and at most since start. */
  readonly outstanding: number;
  readonly maxOutstanding: number;
  /** Setup requests waiting for a slot now (global bound or their device's previous request). */
  readonly waiting: number;
}

export class SetupPacer {
  private outstanding = 0;
  private highWater = 0;
  /** Requests waiting for a global slot, in arrival order. */
  private readonly queue: Array<() => void> = [];
  /** Endpoints with a request outstanding → requests of theirs waiting behind it. */
  private readonly busy = new Map<string, Array<() => void>>();
  private waitingForDevice = 0;

  constructor(readonly bound: number) {
    if (!Number.isInteger(bound) || bound < 1)
      throw new RangeError(`the bound on outstanding setup requests must be a positive integer, got ${bound}`);
  }

  get stats(): SetupPacerStats {
    return {
      outstanding: this.outstanding,
      maxOutstanding: this.highWater,
      waiting: this.queue.length + this.waitingForDevice,
    };
  }

  /** `server` with its request operations paced (the first argument of each is the endpoint). */
  wrap(server: DeviceManagement): DeviceManagement {
    // One wrapper per method, made on first use (not one closure per call).
    const wrapped = new Map<PropertyKey, unknown>();
    return new Proxy(server, {
      get: (target, prop) => {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        let w = wrapped.get(prop);
        if (w === undefined) {
          const fn = value as (...args: unknown[]) => unknown;
          w = REQUESTS.has(prop)
            ? (endpoint: string, ...rest: unknown[]) => this.run(endpoint, () => fn.call(target, endpoint, ...rest))
            : fn.bind(target);
          wrapped.set(prop, w);
        }
        return w;
      },
    });
  }

  /** Runs `op` once the endpoint has no request outstanding and a global slot is free. */
  async run<T>(endpoint: string, op: () => T): Promise<Awaited<T>> {
    await this.acquire(endpoint);
    try {
      return await op();
    } finally {
      this.release(endpoint);
    }
  }

  private async acquire(endpoint: string): Promise<void> {
    const behind = this.busy.get(endpoint);
    if (behind !== undefined) {
      this.waitingForDevice++;
      await new Promise<void>((resolve) => behind.push(resolve));
      this.waitingForDevice--;
    } else this.busy.set(endpoint, []);
    // The endpoint is ours now; then a global slot (release() hands its slot on directly).
    if (this.outstanding >= this.bound) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.outstanding++;
    if (this.outstanding > this.highWater) this.highWater = this.outstanding;
  }

  private release(endpoint: string): void {
    const next = this.queue.shift();
    if (next !== undefined) next();
    else this.outstanding--;
    const behind = this.busy.get(endpoint);
    const following = behind?.shift();
    if (following !== undefined) following();
    else this.busy.delete(endpoint);
  }
}
