/**
 * Runs the bridge as its own process (dist/src/main.js, built by `npm test`), as an operator
 * would, and waits for its "listening" log line. Killing it (SIGKILL) simulates a crashed pod.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { testKafkaBrokers, testRedisUrl } from './infra';
import { REPO_ROOT } from './test-deps';

export interface BridgeProcess {
  readonly pid: number | undefined;
  readonly coapPort: number;
  /** The CoAPS port (COAPS_PORT defaults to 0 here: a free one). */
  readonly coapsPort: number | undefined;
  readonly httpPort: number;
  readonly lines: readonly string[];
  /** SIGKILL: no flush, no goodbye. */
  kill(): Promise<void>;
  /** SIGTERM and wait for a clean exit; resolves with the exit code. */
  terminate(): Promise<number | null>;
}

const MAIN = join(REPO_ROOT, 'dist', 'src', 'main.js');

/**
 * The environment of a bridge on the test Redis and Kafka, every port free (0) on loopback, the
 * HTTP API behind the token "secret"; `extra` adds or overrides variables.
 */
export function realInfraEnv(
  redisKeyPrefix: string,
  kafkaTopicPrefix: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    COAP_HOST: '127.0.0.1',
    COAP_PORT: '0',
    COAPS_PORT: '0',
    HTTP_PORT: '0',
    HTTP_API_TOKEN: 'secret',
    REDIS_URL: testRedisUrl(),
    REDIS_KEY_PREFIX: redisKeyPrefix,
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    KAFKA_TOPIC_PREFIX: kafkaTopicPrefix,
    ...extra,
  };
}

/** The sum of a metric's series on the bridge's /metrics: `name` alone, or a series with its labels. */
export async function bridgeMetric(
  bridge: { readonly httpPort?: number | undefined },
  series: string,
): Promise<number> {
  if (bridge.httpPort === undefined)
    throw new Error('the bridge serves no HTTP (HTTP_PORT unset): no /metrics to read');
  const text = await (await fetch(`http://127.0.0.1:${bridge.httpPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${series} `) || l.startsWith(`${series}{`))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

export interface BridgeProcessOptions {
  /** Bound on the wait for the "listening" line. */
  readonly timeoutMs?: number;
  /** Run inside this network namespace (a pod of test/support/netns/lb-network.ts). */
  readonly netns?: string;
}

export async function startBridgeProcess(
  env: Record<string, string>,
  options: number | BridgeProcessOptions = {},
): Promise<BridgeProcess> {
  const { timeoutMs = 30_000, netns } = typeof options === 'number' ? { timeoutMs: options } : options;
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
  // `ip netns exec` execs node: the child's pid is the bridge's, so kill() reaches it directly.
  const [command, args] =
    netns !== undefined ? ['ip', ['netns', 'exec', netns, process.execPath, MAIN]] : [process.execPath, [MAIN]];
  const child: ChildProcessWithoutNullStreams = spawn(command, args, {
    env: { ...process.env, LOG_LEVEL: 'info', COAPS_PORT: '0', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = new Promise<{ coap: number; coaps: number | undefined; http: number }>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`bridge did not start within ${timeoutMs} ms:\n${lines.slice(-20).join('\n')}\n${stderr}`)),
      timeoutMs,
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (!line.includes('"msg":"listening"')) return;
      const parsed = JSON.parse(line) as {
        coap: { port: number };
        coaps: { port: number } | null;
        http: { port: number };
      };
      clearTimeout(timer);
      resolve({ coap: parsed.coap.port, coaps: parsed.coaps?.port, http: parsed.http.port });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`bridge exited with ${code} before listening:\n${lines.slice(-20).join('\n')}\n${stderr}`));
    });
  });
  const ports = await listening;
  return {
    pid: child.pid,
    coapPort: ports.coap,
    coapsPort: ports.coaps,
    httpPort: ports.http,
    lines,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async terminate() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
