/**
 * Collects records from Kafka topics (from their beginning) for assertions, with event-driven
 * waits bounded in time.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';

export interface CollectedRecord {
  readonly topic: string;
  readonly key: string | null;
  readonly value: Record<string, unknown>;
  readonly headers: Record<string, string>;
}

export class KafkaRecords {
  readonly records: CollectedRecord[] = [];
  private waiters: Array<() => void> = [];

  private constructor(private readonly consumer: Consumer) {}

  static async follow(brokers: string[], topics: string[]): Promise<KafkaRecords> {
    const kafka = new Kafka({ clientId: 'test-reader', brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin
      .createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true })
      .catch(() => undefined);
    await admin.disconnect();
    const consumer = kafka.consumer({ groupId: `test-${randomUUID()}` });
    const out = new KafkaRecords(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {}))
          if (v !== undefined) headers[k] = (Array.isArray(v) ? v[0] : v)?.toString() ?? '';
        out.records.push({
          topic,
          key: message.key?.toString() ?? null,
          value: JSON.parse(message.value?.toString() ?? 'null') as Record<string, unknown>,
          headers,
        });
        for (const w of [...out.waiters]) w();
      },
    });
    return out;
  }

  /** The first record (seen or to come) matching the predicate. */
  waitFor(pred: (r: CollectedRecord) => boolean, timeoutMs = 30_000, what = 'record'): Promise<CollectedRecord> {
    const found = this.records.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(
          new Error(
            `no ${what} within ${timeoutMs} ms; ${this.records.length} records seen: ${this.records
              .slice(-5)
              .map((r) => `${r.topic} ${JSON.stringify(r.value).slice(0, 200)}`)
              .join('\n')}`,
          ),
        );
      }, timeoutMs);
      const check = (): void => {
        const r = this.records.find(pred);
        if (!r) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(r);
      };
      this.waiters.push(check);
    });
  }

  close(): Promise<void> {
    return this.consumer.disconnect();
  }
}

/** Resolves once the consumer group is Stable with exactly `members` members; rejects after `timeoutMs`. */
export async function waitForStableGroup(
  admin: Admin,
  group: string,
  members: number,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const g = (await admin.describeGroups([group])).groups[0];
    if (g?.state === 'Stable' && g.members.length === members) return;
    if (Date.now() > deadline)
      throw new Error(
        `consumer group ${group} never had ${members} stable members (last: ${g?.state ?? 'unknown'}, ${g?.members.length ?? 0})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Creates the bridge's compacted provisioning topics (devices, profiles) before a test provisions through them. */
export async function createCompactedTopics(kafka: Kafka, topics: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({
        topic,
        numPartitions: 1,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      })),
    });
  } finally {
    await admin.disconnect();
  }
}
