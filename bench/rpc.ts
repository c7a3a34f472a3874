/**
 * RPC round trips, Kafka → device → Kafka (issue 4's target: p99 ≤ 50 ms at 1,000 requests/s).
 *
 * A real Kafka broker and Redis (bench/e2e-infra.ts), the bridge as its own process (or two,
 * `--instances 2`: both consume the requests topic, the devices reach only the first, so about
 * half the requests are handed over through Redis), and simulated devices in this process that
 * register and answer every Read at once (piggybacked 2.05, RFC 7252 §5.2.1). Requests are paced
 * open-loop (the number due by now is sent, whatever came back: no coordinated omission); a
 * round trip is from producer.send() to the response record read from the responses topic.
 *
 *   npm run bench:rpc -- [--rate 1000] [--seconds 20] [--warmup 10] [--devices 500] [--instances 1] [--runs 3]
 *
 * Writes bench/results/rpc-roundtrip-<time>.json; prints a summary.
 */
import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { decode, encode } from '../src/coap/codec';
import { Code, MessageType, Opt } from '../src/coap/message';
import { uintOption } from '../src/coap/options';
import { emptyAck, readHead, registerFrame } from './coap-frames';
import { onAbort, startInfra, type Infra } from './e2e-infra';
import { waitForStableGroup } from '../test/support/kafka-records';
import { positiveFlag } from './flags';
import { resultsDir } from './report';
import { ServerProcess, SERVER_HOST } from './server-process';
import { median, SampleBuffer, summarize, type LatencySummary } from './stats';
import { errorStack } from '../src/common/error-message';

interface Params {
  readonly rate: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly devices: number;
  readonly instances: number;
  readonly runs: number;
}

interface RunResult {
  readonly sent: number;
  readonly answered: number;
  readonly missing: number;
  readonly results: Record<string, number>;
  readonly achievedRate: number;
  readonly latency: LatencySummary;
  /** Kafka send → the device got the CoAP request (request topic, intake, queue, routing). */
  readonly toDevice: LatencySummary;
  /** The device answered → the response record was read (response handling, producer, topic). */
  readonly fromDevice: LatencySummary;
  readonly handedOver?: number;
}

const TARGET_P99_MS = 50;
const log = (s: string): void => void process.stderr.write(`bench rpc: ${s}\n`);

function params(argv: readonly string[]): Params {
  const get = (name: string, def: number): number => positiveFlag(argv, name, def);
  return {
    rate: get('rate', 1000),
    seconds: get('seconds', 20),
    warmupSeconds: get('warmup', 10),
    devices: get('devices', 500),
    instances: get('instances', 1),
    runs: get('runs', 3),
  };
}

/** A device that registers, then answers every confirmable GET with a piggybacked 2.05 "87". */
async function device(endpoint: string, port: number, onRequest: (endpoint: string) => void): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, SERVER_HOST, () => s.connect(port, SERVER_HOST, () => resolve())));
  const registered = new Promise<void>((resolve, reject) => {
    let last = 'nothing';
    const timer = setTimeout(
      () => reject(new Error(`${endpoint} was not registered within 10 s (last datagram: ${last})`)),
      10_000,
    );
    s.on('message', (buf) => {
      const head = readHead(buf);
      if (head === undefined) return;
      last = `type ${head.type} code ${head.code >> 5}.${String(head.code & 31).padStart(2, '0')}`;
      if (head.code === Code.CREATED && (head.type === MessageType.ACK || head.type === MessageType.CON)) {
        // Piggybacked, or separate after an empty ACK (RFC 7252 §5.2.2), which is acknowledged.
        if (head.type === MessageType.CON) s.send(emptyAck(head.messageId));
        clearTimeout(timer);
        resolve();
        return;
      }
      if (head.type !== MessageType.CON || head.code < 1 || head.code > 31) return;
      const req = decode(buf);
      if (req === null) return;
      onRequest(endpoint);
      s.send(
        encode({
          type: MessageType.ACK,
          code: Code.CONTENT,
          messageId: req.messageId,
          token: req.token,
          options: [uintOption(Opt.CONTENT_FORMAT, 0)],
          payload: Buffer.from('87'),
        }),
      );
    });
  });
  s.send(registerFrame(endpoint, 3600));
  await registered;
  return s;
}

async function oneRun(infra: Infra, p: Params, runIndex: number): Promise<RunResult> {
  const prefix = `rpcb-${randomUUID().slice(0, 6)}.`;
  const group = `${prefix}rpc`;
  await infra.prepareBridgeTopics(prefix);
  const requests = `${prefix}rpc.requests`;
  const responses = `${prefix}rpc.responses`;
  await infra.admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: requests, numPartitions: 4 },
      { topic: responses, numPartitions: 4 },
      { topic: `${prefix}events`, numPartitions: 1 },
    ],
  });
  const bridges: ServerProcess[] = [];
  for (let i = 0; i < p.instances; i++) {
    const bridge = await ServerProcess.start({
      env: infra.bridgeEnv(prefix, {
        INSTANCE_ID: `rpcb-${runIndex}-${i}`,
        KAFKA_RPC_GROUP_ID: group,
        LOG_LEVEL: 'info',
      }),
    });
    onAbort(() => bridge.killNow());
    await bridge.waitReady(60_000);
    bridges.push(bridge);
  }
  const first = bridges[0] as ServerProcess;
  const sockets: Socket[] = [];
  // Requests in flight per device, oldest first (a device's requests run in order, one at a time),
  // and when the device got each one.
  const inFlight = new Map<string, string[]>();
  const reachedAt = new Map<string, number>();
  const onRequest = (endpoint: string): void => {
    const id = inFlight.get(endpoint)?.shift();
    if (id !== undefined) reachedAt.set(id, performance.now());
  };
  const endpoints = Array.from({ length: p.devices }, (_, i) => `rpcb-dev-${i}`);
  for (let i = 0; i < endpoints.length; i += 100)
    sockets.push(
      ...(await Promise.all(endpoints.slice(i, i + 100).map((ep) => device(ep, first.coapPort, onRequest)))),
    );
  log(
    `run ${runIndex + 1}: ${sockets.length} devices registered on instance 0; ${p.instances} instance(s) consume ${requests}`,
  );

  const kafka = new Kafka({ clientId: 'bench-rpc', brokers: [...infra.brokers], logLevel: logLevel.ERROR });
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer: Consumer = kafka.consumer({ groupId: `${prefix}bench-reader`, maxWaitTimeInMs: 20 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: responses, fromBeginning: true });
  const sentAt = new Map<string, number>();
  const samples = new SampleBuffer();
  const toDevice = new SampleBuffer();
  const fromDevice = new SampleBuffer();
  const results: Record<string, number> = {};
  let measuring = false;
  let answered = 0;
  // The reader commits nothing: a commit per fetched batch would delay its next fetch.
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const now = performance.now();
      for (const m of batch.messages) {
        const v = JSON.parse(m.value?.toString('utf8') ?? '{}') as { id?: string; result?: string };
        const t = v.id === undefined ? undefined : sentAt.get(v.id);
        if (t === undefined) continue;
        sentAt.delete(v.id as string);
        if (!v.id?.startsWith('m-')) continue;
        answered++;
        results[v.result ?? '?'] = (results[v.result ?? '?'] ?? 0) + 1;
        const reached = reachedAt.get(v.id);
        reachedAt.delete(v.id);
        if (!measuring) continue;
        samples.push(now - t);
        if (reached !== undefined) {
          toDevice.push(reached - t);
          fromDevice.push(now - reached);
        }
      }
    },
  });
  await waitForStableGroup(infra.admin, group, p.instances);

  let seq = 0;
  const pace = async (seconds: number, tag: string): Promise<number> => {
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < seconds * 1000) {
      const due = Math.floor(((performance.now() - start) / 1000) * p.rate);
      if (due > n) {
        const batch = [];
        for (; n < due; n++) {
          const endpoint = endpoints[seq++ % endpoints.length] as string;
          const id = `${tag}-${seq}`;
          sentAt.set(id, performance.now());
          const queued = inFlight.get(endpoint);
          if (queued === undefined) inFlight.set(endpoint, [id]);
          else queued.push(id);
          batch.push({
            key: endpoint,
            value: JSON.stringify({ id, endpoint, method: 'Read', params: { id: '/3/0/9' }, timeoutMs: 10_000 }),
          });
        }
        producer
          .send({ topic: requests, acks: 1, messages: batch })
          .catch((err: unknown) => log(`send failed: ${String(err)}`));
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return n;
  };
  await pace(p.warmupSeconds, 'w');
  measuring = true;
  const t0 = performance.now();
  const sent = await pace(p.seconds, 'm');
  const elapsed = (performance.now() - t0) / 1000;
  const drainUntil = Date.now() + 15_000;
  while (answered < sent && Date.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 50));
  measuring = false;
  const handedOver = p.instances > 1 ? await takenBy(bridges.slice(1)) : undefined;

  await consumer.disconnect();
  await producer.disconnect();
  for (const s of sockets) s.close();
  for (const b of bridges) await b.stop();
  const latency = summarize(samples.toArray());
  return {
    sent,
    answered,
    missing: sent - answered,
    results,
    achievedRate: Math.round(sent / elapsed),
    latency,
    toDevice: summarize(toDevice.toArray()),
    fromDevice: summarize(fromDevice.toArray()),
    ...(handedOver !== undefined ? { handedOver } : {}),
  };
}

/** Requests taken by instances the devices do not reach: each was handed over. */
async function takenBy(bridges: readonly ServerProcess[]): Promise<number> {
  let n = 0;
  for (const b of bridges) n += (await b.metrics()).get('lwm2m_rpc_requests_taken_total') ?? 0;
  return n;
}

async function main(): Promise<void> {
  const p = params(process.argv.slice(2));
  const infra = await startInfra(log, '512m');
  const runs: RunResult[] = [];
  try {
    for (let i = 0; i < p.runs; i++) {
      const r = await oneRun(infra, p, i);
      log(
        `run ${i + 1}: ${r.answered}/${r.sent} answered at ${r.achievedRate}/s, p50 ${r.latency.p50Ms} ms, p99 ${r.latency.p99Ms} ms, max ${r.latency.maxMs} ms (to the device p50 ${r.toDevice.p50Ms} / p99 ${r.toDevice.p99Ms} ms, back p50 ${r.fromDevice.p50Ms} / p99 ${r.fromDevice.p99Ms} ms) ${JSON.stringify(r.results)}`,
      );
      runs.push(r);
    }
  } finally {
    await infra.stop();
  }
  const out = {
    bench: 'rpc-roundtrip',
    at: new Date().toISOString(),
    params: p,
    target: { p99Ms: TARGET_P99_MS, rate: 1000 },
    medians: {
      p50Ms: median(runs.map((r) => r.latency.p50Ms)),
      p99Ms: median(runs.map((r) => r.latency.p99Ms)),
      achievedRate: median(runs.map((r) => r.achievedRate)),
    },
    runs,
  };
  mkdirSync(resultsDir(), { recursive: true });
  const file = join(resultsDir(), `rpc-roundtrip-${p.instances}inst-${out.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(
    `RPC round trip Kafka → device → Kafka, ${p.instances} instance(s), ${p.runs} runs at ${p.rate}/s: median p50 ${out.medians.p50Ms} ms, median p99 ${out.medians.p99Ms} ms (target ≤ ${TARGET_P99_MS} ms)\nwritten to ${file}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench rpc failed: ${errorStack(err)}\n`);
  process.exit(1);
});
