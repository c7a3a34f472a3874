/**
 * Chooses the bus: Kafka when brokers are configured, else the in-process bus (embedded mode),
 * which logs records (rate-limited) so that a newcomer sees data flowing.
 */
import { KafkaBus } from './kafka-bus';
import type { KafkaBusOptions } from './kafka-config';
import { MemoryBus } from './memory-bus';
import type { Bus } from './types';

export type CreatedBus =
  { readonly kind: 'kafka'; readonly bus: KafkaBus } | { readonly kind: 'memory'; readonly bus: MemoryBus };

/**
 * With no brokers, a MemoryBus that keeps `compactedTopics` as compacted topics (and only those:
 * telemetry is not retained per key). A KafkaBus is returned unstarted: call `start()` (it
 * retries until connected).
 */
export function createBus(options: KafkaBusOptions, compactedTopics: readonly string[]): CreatedBus {
  if (options.brokers.length === 0) {
    return {
      kind: 'memory',
      bus: new MemoryBus({
        instanceId: options.instanceId,
        compactedTopics,
        ...(options.log !== undefined ? { log: options.log } : {}),
      }),
    };
  }
  return { kind: 'kafka', bus: new KafkaBus(options) };
}

export type { Bus };
