/** Jest globalTeardown of the "integration" project: stops the Redis and Kafka globalSetup started. */
import { KAFKA_BROKERS_VAR, REDIS_URL_VAR } from './infra';
import { stopTestInfra } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  await stopTestInfra(globalThis.__lwm2mTestInfra);
  globalThis.__lwm2mTestInfra = undefined;
  delete process.env[REDIS_URL_VAR];
  delete process.env[KAFKA_BROKERS_VAR];
}
