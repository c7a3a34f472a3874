/**
 * Addresses of the real Redis and Kafka the integration tests use. The jest globalSetup
 * (test/support/global-setup.ts) starts them, or takes them from the environment
 * (REDIS_URL, KAFKA_BROKERS), and publishes them through these variables. A test that needs one
 * and finds it missing fails with a message naming what is missing; it never passes silently.
 */
import { MissingTestDependencyError } from './test-deps';

export const REDIS_URL_VAR = 'LWM2M_TEST_REDIS_URL';
export const KAFKA_BROKERS_VAR = 'LWM2M_TEST_KAFKA_BROKERS';

export function testRedisUrl(): string {
  const url = process.env[REDIS_URL_VAR];
  if (!url)
    throw new MissingTestDependencyError(
      'Redis',
      `${REDIS_URL_VAR} is not set: the integration globalSetup did not start Redis (run "npm test")`,
    );
  return url;
}

export function testKafkaBrokers(): string[] {
  const brokers = process.env[KAFKA_BROKERS_VAR];
  if (!brokers)
    throw new MissingTestDependencyError(
      'Kafka',
      `${KAFKA_BROKERS_VAR} is not set: the integration globalSetup did not start Kafka (run "npm test")`,
    );
  return brokers.split(',');
}
