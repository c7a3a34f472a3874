import { MemoryBus } from './memory-bus';
import { BusRejectedError, BusUnavailableError, type ConsumedRecord } from './types';

const text = (r: ConsumedRecord): string => `${r.key}=${r.value === null ? 'tombstone' : r.value.toString()}`;

describe('MemoryBus', () => {
  it('accepts records, keeps the most recent ones with the contract headers, and logs each at info', async () => {
    const logged: object[] = [];
    const log = { info: (o: object) => logged.push(o), warn: () => undefined, error: () => undefined };
    const bus = new MemoryBus({ instanceId: 'i-1', maxRecords: 2, log });
    await bus.publish([{ topic: 'lwm2m.telemetry', key: 'dev1', value: { v: 1 } }]);
    await bus.publish([
      { topic: 'lwm2m.telemetry', key: 'dev2', value: { v: 2 } },
      { topic: 'lwm2m.events', key: 'dev1', value: { type: 'registered' }, headers: { 'schema-version': '2' } },
    ]);
    expect(bus.records().map((r) => r.published)).toEqual([{ v: 2 }, { type: 'registered' }]);
    expect(bus.records('lwm2m.events')[0]?.headers).toEqual({
      'schema-version': '2',
      'instance-id': 'i-1',
      'content-type': 'application/json',
    });
    expect(bus.records('lwm2m.telemetry')[0]?.value?.toString()).toBe('{"v":2}');
    expect(logged).toEqual([
      { topic: 'lwm2m.telemetry', key: 'dev1', value: { v: 1 } },
      { topic: 'lwm2m.telemetry', key: 'dev2', value: { v: 2 } },
      { topic: 'lwm2m.events', key: 'dev1', value: { type: 'registered' } },
    ]);
    expect(bus.stats()).toEqual({
      bufferedRecords: 0,
      bufferedBytes: 0,
      published: 3,
      failed: 0,
      sendErrors: 0,
      available: true,
    });
  });

  it('keeps only the compacted topics it is given for follow(); others are followed from now on', async () => {
    const bus = new MemoryBus({ compactedTopics: ['devices'] });
    await bus.publish([
      { topic: 'devices', key: 'a', value: 1 },
      { topic: 'telemetry', key: 'a', value: 1 },
    ]);
    const seen: string[] = [];
    await bus.follow('devices', (r) => void seen.push(`devices:${text(r)}`));
    await bus.follow('telemetry', (r) => void seen.push(`telemetry:${text(r)}`));
    await bus.publish([{ topic: 'telemetry', key: 'b', value: 2 }]);
    await bus.close();
    expect(seen).toEqual(['devices:a=1', 'telemetry:b=2']);
    expect(bus.records('telemetry')).toHaveLength(2);
  });

  it('rate-limits the record log and says how many records it did not log', async () => {
    const logged: Array<{ o: object; msg: string }> = [];
    const log = {
      info: (o: object, msg: string) => logged.push({ o, msg }),
      warn: () => undefined,
      error: () => undefined,
    };
    let now = 10_000;
    const bus = new MemoryBus({ log, logRecordsPerSecond: 2, now: () => now });
    const rec = (v: number) => ({ topic: 't', key: 'k', value: { v } });
    await bus.publish([rec(1), rec(2), rec(3), rec(4), rec(5)]);
    now += 999;
    await bus.publish([rec(6)]);
    expect(logged.map((l) => l.o)).toEqual([
      { topic: 't', key: 'k', value: { v: 1 } },
      { topic: 't', key: 'k', value: { v: 2 } },
    ]);
    now += 1;
    await bus.publish([rec(7)]);
    expect(logged.slice(2)).toEqual([
      { o: { records: 4 }, msg: 'bus records not logged (rate limit)' },
      { o: { topic: 't', key: 'k', value: { v: 7 } }, msg: 'bus record' },
    ]);
    expect(bus.stats().published).toBe(7);
  });

  it('follows a topic as a compacted one: latest record per key, tombstones delete, then live records', async () => {
    const bus = new MemoryBus();
    await bus.publish([
      { topic: 'devices', key: 'a', value: 1 },
      { topic: 'devices', key: 'b', value: 1 },
      { topic: 'profiles', key: 'p', value: 1 },
      { topic: 'devices', key: 'a', value: 2 },
      { topic: 'devices', key: 'c', value: 1 },
      { topic: 'devices', key: 'c', value: null },
    ]);
    const seen: string[] = [];
    await bus.follow('devices', async (r) => {
      await Promise.resolve();
      seen.push(text(r));
    });
    expect(seen).toEqual(['b=1', 'a=2']); // resolved once the existing records were handled
    await bus.publish([
      { topic: 'devices', key: 'b', value: null },
      { topic: 'devices', key: 'd', value: 'x' },
    ]);
    await bus.close(); // waits for deliveries in progress
    expect(seen).toEqual(['b=1', 'a=2', 'b=tombstone', 'd="x"']);
  });

  it('goes on after a handler throws', async () => {
    const bus = new MemoryBus();
    await bus.publish([
      { topic: 't', key: 'bad', value: 0 },
      { topic: 't', key: 'good', value: 1 },
    ]);
    const seen: string[] = [];
    await bus.follow('t', (r) => {
      if (r.key === 'bad') throw new Error('malformed');
      seen.push(text(r));
    });
    expect(seen).toEqual(['good=1']);
  });

  it('refuses values that are not JSON and everything once closed', async () => {
    const bus = new MemoryBus();
    await expect(bus.publish([{ topic: 't', key: 'k', value: { n: 1n } }])).rejects.toBeInstanceOf(BusRejectedError);
    await bus.close();
    await expect(bus.publish([{ topic: 't', key: 'k', value: 1 }])).rejects.toBeInstanceOf(BusUnavailableError);
    await expect(bus.follow('t', () => undefined)).rejects.toBeInstanceOf(BusUnavailableError);
    expect(bus.stats()).toMatchObject({ failed: 2, published: 0, available: false });
  });
});
