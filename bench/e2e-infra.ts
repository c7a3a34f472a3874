/**
 * What the end-to-end benchmark runs against: a real Redis and a real Kafka broker (the test
 * suite's handles, test/support, on free loopback ports; or REDIS_URL / KAFKA_BROKERS from the
 * environment), the telemetry topic (created with LogAppendTime, so that a record's timestamp is
 * when the broker appended it), one profile file, and the bridge's environment.
 *
 * Cleanup: every child is stopped in `stop()`; on SIGINT/SIGTERM or an unexpected exit, the
 * registered kill functions run (bridge, consumer) and test/infra's own exit handler kills Redis
 * and Kafka and removes their directories and the profile directory (test/infra also removes the
 * directories of a process that died without doing so, at its next start). Redis, Kafka, the bridge and the consumer are also started through
 * `setpriv --pdeathsig KILL` where available, so that they die with the bench even on SIGKILL.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { createTempDir, forgetTempDir } from '../test/infra/managed-process';
import { startKafkaBroker, type KafkaBrokerHandle } from '../test/support/kafka-broker';
import { startRedisServer, type RedisHandle } from '../test/support/redis-server';
import { errorMessage } from '../src/common/error-message';

export const PROFILE_NAME = 'bench-thermometer';
/** Notifications of /3303/0/5700 become telemetry under "temperature"; nothing is read or written at registration. */
export const PROFILE = {
  name: PROFILE_NAME,
  updatedAt: '2026-11-21T12:00:00Z',
  unmappedPaths: 'drop',
  observeAttr: { keyName: { '/3303/0/5700': 'temperature' }, observe: ['/3303/0/5700'], observeStrategy: 'SINGLE' },
} as const;

export interface Infra {
  readonly redisUrl: string;
  readonly brokers: readonly string[];
  readonly source: { readonly redis: 'started' | 'REDIS_URL'; readonly kafka: 'started' | 'KAFKA_BROKERS' };
  readonly profilesDir: string;
  readonly admin: Admin;
  /** A bridge environment with its own topic and key prefixes. */
  bridgeEnv(prefix: string, extra?: Readonly<Record<string, string>>): Record<string, string>;
  /** Creates `<prefix>telemetry` with `partitions` partitions and LogAppendTime timestamps. */
  createTelemetryTopic(prefix: string, partitions: number): Promise<string>;
  /**
   * Creates the bridge's compacted provisioning topics (`<prefix>devices`, `<prefix>profiles`, as
   * src/bus/kafka-topics-admin.ts would) and waits until their offsets can be read: a bridge that
   * creates them itself on a fresh broker can fail to start with "This server is not the leader
   * for that topic-partition" when it reads their offsets right after creating them.
   */
  prepareBridgeTopics(prefix: string): Promise<void>;
  /** High watermarks of a topic. */
  offsets(topic: string): Promise<Array<{ partition: number; offset: number }>>;
  stop(): Promise<void>;
}

const killers = new Set<() => void>();
let handlersInstalled = false;

/** Runs `kill` if the bench is interrupted or exits before `release()`. */
export function onAbort(kill: () => void): () => void {
  if (!handlersInstalled) {
    handlersInstalled = true;
    const killAll = (): void => {
      for (const k of killers) k();
    };
    process.once('exit', killAll);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => {
        process.stderr.write(`bench e2e: ${signal}, stopping every child process\n`);
        killAll();
        process.exit(130); // the 'exit' handlers of test/infra then kill Redis and Kafka
      });
    }
  }
  killers.add(kill);
  return () => killers.delete(kill);
}

export async function startInfra(log: (s: string) => void, brokerHeap: string): Promise<Infra> {
  const stops: Array<() => Promise<void>> = [];
  // test/infra removes it on exit, and on its next run if this process died without doing so.
  const profilesDir = await createTempDir('profiles');
  stops.push(async () => {
    rmSync(profilesDir, { recursive: true, force: true });
    forgetTempDir(profilesDir);
  });
  const stopAll = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => log(`cleanup: ${errorMessage(err)}`));
  };
  try {
    writeFileSync(join(profilesDir, `${PROFILE_NAME}.json`), JSON.stringify(PROFILE));
    let redisUrl = process.env.REDIS_URL ?? '';
    if (redisUrl === '') {
      const redis: RedisHandle = await startRedisServer();
      stops.push(() => redis.stop());
      redisUrl = redis.url;
    }
    let brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter((b) => b !== '');
    if (brokers.length === 0) {
      log('starting a Kafka broker (KRaft, one node)…');
      const classpathFile =
        process.env.KAFKA_CLASSPATH_FILE ?? resolve(__dirname, '..', '..', '.cache', 'kafka-classpath.txt');
      const kafka: KafkaBrokerHandle = await startKafkaBroker({
        classpathFile,
        jvmArgs: [`-Xmx${brokerHeap}`, `-Xms${brokerHeap}`],
      });
      stops.push(() => kafka.stop());
      brokers = kafka.brokers;
    }
    const admin = new Kafka({ clientId: 'bench-e2e-admin', brokers, logLevel: logLevel.ERROR }).admin();
    await admin.connect();
    stops.push(() => admin.disconnect());
    return {
      redisUrl,
      brokers,
      source: {
        redis: process.env.REDIS_URL ? 'REDIS_URL' : 'started',
        kafka: process.env.KAFKA_BROKERS ? 'KAFKA_BROKERS' : 'started',
      },
      profilesDir,
      admin,
      bridgeEnv: (prefix, extra = {}) => ({
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: prefix.replace(/\.$/, ''),
        KAFKA_BROKERS: brokers.join(','),
        KAFKA_TOPIC_PREFIX: prefix,
        PROFILES_DIR: profilesDir,
        PROFILE_RULES: JSON.stringify([{ pattern: 'e2e-*', profile: PROFILE_NAME }]),
        ...extra,
      }),
      async createTelemetryTopic(prefix, partitions) {
        const topic = `${prefix}telemetry`;
        await admin.createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic,
              numPartitions: partitions,
              replicationFactor: 1,
              configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
            },
          ],
        });
        await readableOffsets(admin, topic, 30_000);
        return topic;
      },
      async prepareBridgeTopics(prefix) {
        const topics = [`${prefix}devices`, `${prefix}profiles`];
        await admin.createTopics({
          waitForLeaders: true,
          topics: topics.map((topic) => ({
            topic,
            numPartitions: 3,
            configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
          })),
        });
        for (const topic of topics) await readableOffsets(admin, topic, 30_000);
      },
      async offsets(topic) {
        return (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, offset: Number(o.high) }));
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function readableOffsets(admin: Admin, topic: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await admin.fetchTopicOffsets(topic);
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
