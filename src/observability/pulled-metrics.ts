/**
 * Metrics read at scrape time from counters the code keeps itself (CoapStats, RedisStats, bus
 * stats): the hot paths only increment plain numbers, prom-client sees them when scraped.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** A counter whose value is `read()` at each scrape (a monotonic number kept elsewhere). */
export function pulledCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A gauge whose value is `read()` at each scrape. */
export function pulledGauge(
  registry: Registry,
  name: string,
  help: string,
  read: () => number | Promise<number>,
): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      this.set(await read());
    },
  });
}

/** A counter per label value, each read at scrape time from a map of monotonic numbers. */
export function pulledLabelledCounter(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  read: () => ReadonlyMap<string, number>,
): void {
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      this.reset();
      for (const [value, n] of read()) this.inc({ [label]: value }, n);
    },
  });
}
