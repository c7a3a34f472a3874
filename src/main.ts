/**
 * Process entry point: configuration, logging, signals. Everything else is wired in app.ts.
 */
import { loadConfig } from './config/env';
import { ConfigError } from './errors';
import { startApp } from './app';
import { createLogger } from './observability/logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`lwm2m-bridge: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
  let app;
  try {
    app = await startApp(config, log);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`lwm2m-bridge: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`lwm2m-bridge: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
