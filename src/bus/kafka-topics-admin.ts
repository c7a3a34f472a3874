/**
 * Creates the compacted provisioning topics (devices, profiles) when they are missing, so that a
 * fresh cluster works out of the box; existing topics are left as they are.
 */
import type { Kafka } from 'kafkajs';

export async function ensureCompactedTopics(
  kafka: Kafka,
  topics: readonly string[],
  partitions = 3,
): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length === 0) return [];
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: partitions,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      })),
    });
    return missing;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
