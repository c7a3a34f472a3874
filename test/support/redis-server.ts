/**
 * A real Redis server for tests: Debian's redis-server on a free port, without persistence
 * (--save '' --appendonly no), in a fresh temporary directory. Readiness is polled with PING.
 *
 *   const redis = await startRedisServer();
 *   new Redis(redis.url);
 *   await redis.down(); ...outage...; await redis.up();    // or: await redis.restart();
 *   await redis.stop();                                    // final
 *
 * Without persistence a restarted server starts empty.
 */
import Redis from 'ioredis';
import { createTempDir, describeExit, findFreePorts, ManagedProcess, pollUntil } from '../infra/managed-process';
import { LocalServer } from './local-server';
import { requireOnPath } from './test-deps';
import { errorMessage } from '../../src/common/error-message';

export interface RedisServerOptions {
  /** Inside this network namespace (a fresh one: the port is then fixed, 6379), bound to `host`. */
  netns?: { readonly name: string; readonly host: string };
  /** Bound on the wait for PONG, per start; default 15 s. */
  readyTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping; default 5 s. */
  stopGraceMs?: number;
}

export interface RedisHandle {
  /** redis://127.0.0.1:<port>; unchanged by down/up/restart. */
  readonly url: string;
  readonly port: number;
  isRunning(): boolean;
  /** Stops the server process (SIGTERM, SIGKILL after the grace period), keeping the port. */
  down(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server keeps its connections but answers nothing meanwhile. */
  pause(): void;
  resume(): void;
  /** Starts it again on the same port (empty: no persistence) and waits for PONG. */
  up(): Promise<void>;
  /** down() then up(). */
  restart(): Promise<void>;
  /** Final: stops the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
  /** The tail of the server's output, for diagnostics. */
  logs(): string;
}

const HOST = '127.0.0.1';
const POLL_INTERVAL_MS = 100;
const START_ATTEMPTS = 3;

/** Resolves when the Redis at `url` answers PING. */
export async function waitForRedis(
  url: string,
  timeoutMs: number,
  abortReason?: () => string | undefined,
): Promise<void> {
  await pollUntil(
    async () => {
      const client = new Redis(url, {
        lazyConnect: true,
        connectTimeout: 1_000,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
      });
      // ioredis reports the cause (ECONNREFUSED...) as an event and rejects with "Connection is closed."
      let cause: Error | undefined;
      client.on('error', (error: Error) => {
        cause = error;
      });
      try {
        await client.connect();
        const reply = await client.ping();
        if (reply !== 'PONG') throw new Error(`PING answered ${reply}`);
      } catch (error) {
        throw cause ?? error;
      } finally {
        client.disconnect();
      }
    },
    { timeoutMs, intervalMs: POLL_INTERVAL_MS, what: `Redis at ${url}`, abortReason },
  );
}

/** A test redis-server in the foreground on `host:port`, without persistence, its files in `dir`. */
export function redisServerArgs(port: number, host: string, dir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    host,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--logfile',
    '',
  ];
}

class RedisServer extends LocalServer implements RedisHandle {
  constructor(
    private readonly command: string,
    dir: string,
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {
    super(dir, 'Redis server', options.stopGraceMs ?? 5_000);
  }

  get url(): string {
    return `redis://${this.options.netns?.host ?? HOST}:${this.port}`;
  }

  protected spawn(): ManagedProcess {
    return ManagedProcess.spawn({
      name: 'redis-server',
      command: this.command,
      args: [
        ...redisServerArgs(this.port, this.options.netns?.host ?? HOST, this.dir),
        // Clients in other namespaces (pods) reach it on a private address: no protected mode there.
        '--protected-mode',
        this.options.netns !== undefined ? 'no' : 'yes',
      ],
      cwd: this.dir,
      ...(this.options.netns !== undefined ? { netns: this.options.netns.name } : {}),
    });
  }

  protected waitReady(child: ManagedProcess): Promise<void> {
    return waitForRedis(this.url, this.options.readyTimeoutMs ?? 15_000, () =>
      child.exit !== undefined ? `redis-server ${describeExit(child.exit)}` : undefined,
    );
  }

  lastRunLostItsPort(): boolean {
    return /Address already in use/.test(this.logs());
  }

  logs(): string {
    return this.consoleOutput();
  }
}

/**
 * Starts redis-server on a free port and resolves once it answers PING. Fails with a
 * MissingTestDependencyError when redis-server is not on PATH, or with its output when it does
 * not come up.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisHandle> {
  const command = requireOnPath('redis-server', 'redis-server');
  for (let attempt = 1; ; attempt++) {
    const [port] = options.netns !== undefined ? [6379] : await findFreePorts(1, HOST);
    if (port === undefined) throw new Error('findFreePorts returned no port');
    const dir = await createTempDir('redis');
    const server = new RedisServer(command, dir, port, options);
    try {
      await server.launch();
      return server;
    } catch (error) {
      const lostPort = server.lastRunLostItsPort();
      const logs = server.logs().slice(-8_000);
      await server.stop();
      if (attempt < START_ATTEMPTS && lostPort) continue;
      const message = errorMessage(error);
      throw new Error(`the test Redis server did not start: ${message}\n--- redis-server output (tail) ---\n${logs}`, {
        cause: error,
      });
    }
  }
}
