/**
 * Jest globalSetup of the "integration" project: refuses to start when an external tool the
 * tests rely on is missing, naming each one, rather than letting tests fail one by one; then
 * provides the real Redis and Kafka the tests use (see ./infra.ts):
 *   - REDIS_URL set: that Redis (checked with PING); else a redis-server started here;
 *   - KAFKA_BROKERS set (comma-separated host:port): that Kafka (checked); else a broker started here.
 * Their addresses are published as LWM2M_TEST_REDIS_URL and LWM2M_TEST_KAFKA_BROKERS, which the
 * jest workers inherit; ./global-teardown.ts stops what was started here.
 */
import { installProcessCleanup } from '../infra/managed-process';
import { KAFKA_BROKERS_VAR, REDIS_URL_VAR } from './infra';
import { requireKafkaClasspath, startKafkaBroker, waitForKafka, type KafkaBrokerHandle } from './kafka-broker';
import { startRedisServer, waitForRedis, type RedisHandle } from './redis-server';
import { findMissingTestDependencies, type MissingTestDependencyError, problemsOf, requireOnPath } from './test-deps';
import { errorMessage } from '../../src/common/error-message';

/** What globalSetup started, for globalTeardown (same process, separate module loads). */
export interface StartedTestInfra {
  redis?: RedisHandle;
  kafka?: KafkaBrokerHandle;
}

declare global {
  var __lwm2mTestInfra: StartedTestInfra | undefined;
}

/** Bound on the check that a Redis or Kafka given by the environment answers. */
const EXTERNAL_READY_TIMEOUT_MS = 15_000;

function envValue(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** The existing tool checks, plus what starting Redis and Kafka here needs. */
function findProblems(redisUrl: string | undefined, kafkaBrokers: string | undefined): MissingTestDependencyError[] {
  const checks: Array<() => unknown> = [];
  if (redisUrl === undefined) checks.push(() => requireOnPath('redis-server', 'redis-server'));
  if (kafkaBrokers === undefined) checks.push(() => requireKafkaClasspath());
  return [...findMissingTestDependencies(), ...problemsOf(checks)];
}

async function provideRedis(url: string | undefined, started: StartedTestInfra): Promise<string> {
  if (url !== undefined) {
    await waitForRedis(url, EXTERNAL_READY_TIMEOUT_MS).catch((error: unknown) => {
      throw new Error(`REDIS_URL=${url} does not answer PING: ${errorMessage(error)}`);
    });
    return url;
  }
  started.redis = await startRedisServer();
  return started.redis.url;
}

async function provideKafka(brokers: string | undefined, started: StartedTestInfra): Promise<string> {
  if (brokers !== undefined) {
    await waitForKafka(brokers.split(','), EXTERNAL_READY_TIMEOUT_MS).catch((error: unknown) => {
      throw new Error(`KAFKA_BROKERS=${brokers} does not answer: ${errorMessage(error)}`);
    });
    return brokers;
  }
  started.kafka = await startKafkaBroker();
  return started.kafka.brokers.join(',');
}

export async function stopTestInfra(started: StartedTestInfra | undefined): Promise<void> {
  if (started === undefined) return;
  await Promise.all([started.redis?.stop(), started.kafka?.stop()]);
  started.redis = undefined;
  started.kafka = undefined;
}

export default async function globalSetup(): Promise<void> {
  const redisUrl = envValue('REDIS_URL');
  const kafkaBrokers = envValue('KAFKA_BROKERS');
  const problems = findProblems(redisUrl, kafkaBrokers);
  if (problems.length > 0) {
    throw new Error(
      `integration tests cannot run, ${problems.length} external tool(s) missing:\n` +
        problems.map((p) => `  - ${p.message}`).join('\n'),
    );
  }

  // Before any test file's environment copies `process`: see test/infra/managed-process.ts.
  installProcessCleanup();
  // A previous run in the same process (watch mode) that was not torn down.
  await stopTestInfra(globalThis.__lwm2mTestInfra);
  const started: StartedTestInfra = {};
  globalThis.__lwm2mTestInfra = started;
  // In parallel: the broker's JVM takes seconds, Redis milliseconds.
  const [redis, kafka] = await Promise.allSettled([
    provideRedis(redisUrl, started),
    provideKafka(kafkaBrokers, started),
  ]);
  if (redis.status === 'rejected' || kafka.status === 'rejected') {
    await stopTestInfra(started);
    const failures = [redis, kafka]
      .filter((result): result is PromiseRejectedResult => result.status === 'rejected')
      .map((result) => errorMessage(result.reason));
    throw new Error(`integration tests cannot run, the test infrastructure did not start:\n${failures.join('\n\n')}`);
  }
  process.env[REDIS_URL_VAR] = redis.value;
  process.env[KAFKA_BROKERS_VAR] = kafka.value;
}
