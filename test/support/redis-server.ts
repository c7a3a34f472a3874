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
import { rm } from 'node:fs/promises';
import Redis from 'ioredis';
import {
  createTempDir,
  describeExit,
  findFreePorts,
  forgetTempDir,
  ManagedProcess,
  pollUntil,
} from '../infra/managed-process';
import { requireOnPath } from './test-deps';

export interface RedisServerOptions {
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

class RedisServer implements RedisHandle {
  private process: ManagedProcess | undefined;
  private earlierOutput = '';
  private stopped = false;

  constructor(
    private readonly command: string,
    readonly dir: string,
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {}

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  isRunning(): boolean {
    return this.process !== undefined && this.process.exit === undefined;
  }

  async launch(): Promise<void> {
    if (this.stopped) throw new Error('this Redis server was stopped for good (stop()); start a new one');
    if (this.isRunning()) return;
    if (this.process !== undefined) this.earlierOutput += this.process.output();
    const child = ManagedProcess.spawn({
      name: 'redis-server',
      command: this.command,
      args: [
        '--port', String(this.port),
        '--bind', HOST,
        '--save', '',
        '--appendonly', 'no',
        '--dir', this.dir,
        '--daemonize', 'no',
        '--logfile', '',
      ],
      cwd: this.dir,
    });
    this.process = child;
    try {
      await waitForRedis(this.url, this.options.readyTimeoutMs ?? 15_000, () =>
        child.exit !== undefined ? `redis-server ${describeExit(child.exit)}` : undefined,
      );
    } catch (error) {
      await child.stop(this.options.stopGraceMs ?? 5_000);
      throw error;
    }
  }

  lastRunLostItsPort(): boolean {
    return /Address already in use/.test(this.logs());
  }

  async down(): Promise<void> {
    if (this.process === undefined) return;
    await this.process.stop(this.options.stopGraceMs ?? 5_000);
  }

  async up(): Promise<void> {
    await this.launch();
  }

  async restart(): Promise<void> {
    await this.down();
    await this.launch();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.down();
    await rm(this.dir, { recursive: true, force: true });
    forgetTempDir(this.dir);
  }

  logs(): string {
    return this.earlierOutput + (this.process?.output() ?? '');
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
    const [port] = await findFreePorts(1, HOST);
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
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`the test Redis server did not start: ${message}\n--- redis-server output (tail) ---\n${logs}`);
    }
  }
}
