/**
 * Kafka side of the end-to-end benchmark, run as its own process (bench/e2e-consumer-client.ts
 * starts it) so that its CPU is measured apart and never shares an event loop with the devices.
 *
 * Reads the telemetry topic from its beginning with kafkajs and keeps, for each notification
 * record (source.op "notify"), three wall-clock times: the device's send time (the record's
 * value, ms since the run's epoch), the record's timestamp (the broker's append time: the topic
 * is created with message.timestamp.type=LogAppendTime; ms resolution) and when this process got
 * it. On "collect" it waits until it has read up to the given offsets and summarises a window.
 */
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import type { ConsumerCommand, ConsumerReply, ConsumedWindow } from './e2e-consumer-protocol';
import { summarize } from './stats';
import { errorStack } from '../src/common/error-message';

class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }

  at(i: number): number {
    return this.data[i] as number;
  }

  clear(): void {
    this.length = 0;
  }
}

const TEMPERATURE = '"temperature":';
const sent = new Samples();
const appended = new Samples();
const consumed = new Samples();
const readTo = new Map<number, number>();
let otherRecords = 0;
let unparsable = 0;
let epochMs = 0;
let topic = '';
let consumer: Consumer | undefined;

function onRecord(value: Buffer | null, timestamp: string, now: number): void {
  if (value === null) return void otherRecords++;
  const s = value.toString('latin1');
  if (!s.includes('"op":"notify"')) return void otherRecords++;
  const i = s.indexOf(TEMPERATURE);
  const v = i < 0 ? Number.NaN : Number.parseFloat(s.slice(i + TEMPERATURE.length, i + TEMPERATURE.length + 24));
  if (!Number.isFinite(v)) return void unparsable++;
  sent.push(epochMs + v);
  appended.push(Number(timestamp));
  consumed.push(now);
}

async function start(cmd: Extract<ConsumerCommand, { kind: 'start' }>): Promise<ConsumerReply> {
  epochMs = cmd.epochMs;
  topic = cmd.topic;
  const kafka = new Kafka({ clientId: 'bench-e2e-consumer', brokers: [...cmd.brokers], logLevel: logLevel.ERROR });
  const c = kafka.consumer({
    groupId: cmd.groupId,
    maxWaitTimeInMs: 20,
    minBytes: 1,
    maxBytes: 64 << 20,
    maxBytesPerPartition: 16 << 20,
  });
  consumer = c;
  await c.connect();
  await c.subscribe({ topic: cmd.topic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => c.on(c.events.GROUP_JOIN, () => resolve()));
  await c.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const now = performance.timeOrigin + performance.now();
      for (const m of batch.messages) onRecord(m.value, m.timestamp, now);
      const last = Number(batch.lastOffset());
      if (last > (readTo.get(batch.partition) ?? -1)) readTo.set(batch.partition, last);
    },
  });
  await joined;
  return { kind: 'started' };
}

async function collect(cmd: Extract<ConsumerCommand, { kind: 'collect' }>): Promise<ConsumerReply> {
  const t = performance.now();
  const reached = (): boolean =>
    cmd.until.every((u) => u.offset === 0 || (readTo.get(u.partition) ?? -1) >= u.offset - 1);
  while (!reached() && performance.now() - t < cmd.timeoutMs) await new Promise((r) => setTimeout(r, 20));
  let appendedInWindow = 0;
  const appendLatency: number[] = [];
  const consumeLatency: number[] = [];
  for (let i = 0; i < sent.length; i++) {
    const a = appended.at(i);
    if (a >= cmd.t0Ms && a < cmd.t1Ms) appendedInWindow++;
    const s = sent.at(i);
    if (s < cmd.t0Ms || s >= cmd.t1Ms) continue;
    appendLatency.push(a - s);
    consumeLatency.push(consumed.at(i) - s);
  }
  const result: ConsumedWindow = {
    notifyRecordsRead: sent.length,
    otherRecords,
    unparsable,
    reachedOffsets: reached(),
    waitedMs: Math.round(performance.now() - t),
    appendedInWindow,
    sentInWindow: appendLatency.length,
    appendLatency: summarize(Float64Array.from(appendLatency)),
    consumeLatency: summarize(Float64Array.from(consumeLatency)),
  };
  sent.clear();
  appended.clear();
  consumed.clear();
  otherRecords = 0;
  unparsable = 0;
  return { kind: 'collected', result };
}

async function handle(cmd: ConsumerCommand): Promise<ConsumerReply> {
  switch (cmd.kind) {
    case 'start':
      return start(cmd);
    case 'collect':
      return collect(cmd);
    case 'pause':
      consumer?.pause([{ topic }]);
      return { kind: 'paused' };
    case 'resume':
      consumer?.resume([{ topic }]);
      return { kind: 'resumed' };
    case 'stop':
      await consumer?.disconnect().catch(() => undefined);
      return { kind: 'stopped' };
  }
}

const send = (r: ConsumerReply): void => void process.send?.(r);
process.on('message', (cmd: ConsumerCommand) => {
  handle(cmd).then(send, (err: unknown) => send({ kind: 'error', message: errorStack(err) }));
});
process.on('disconnect', () => process.exit(0));
