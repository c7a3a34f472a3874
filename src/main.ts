/**
 * Process entry point: configuration, logging, signals. Everything else is wired in app.ts.
 */
import { loadConfig } from './config/env';
import { ConfigError } from './common/errors';
import { startApp } from './app';
import { createLogger } from './observability/logger';
import { errorMessage } from './common/error-message';

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
    log.info({ signal, budgetMs: config.SHUTDOWN_TIMEOUT_MS, drainMs: config.SHUTDOWN_DRAIN_MS }, 'shutting down');
    // The last resort: whatever still runs, the process is gone within the budget (a kubelet
    // sends SIGKILL at terminationGracePeriodSeconds anyway; this exits first, saying so).
    setTimeout(() => {
      log.error({ budgetMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown budget spent; exiting now');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + 250).unref();
    app.stop().then(
      (report) => {
        if (report.unfinished.length === 0) {
          log.info({ elapsedMs: report.elapsedMs }, 'shut down');
          process.exit(0);
        }
        log.warn({ elapsedMs: report.elapsedMs, unfinished: report.unfinished }, 'shut down with work left unfinished');
        process.exit(1);
      },
      (err: unknown) => {
        log.error({ err: errorMessage(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`lwm2m-bridge: failed to start: ${errorMessage(err)}\n`);
  process.exit(1);
});
