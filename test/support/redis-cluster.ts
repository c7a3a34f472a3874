/**
 * A real Redis Cluster of 3 masters (no replicas) for tests: three Debian redis-server processes
 * with --cluster-enabled yes on free loopback ports, joined by `redis-cli --cluster create`, ready
 * once every node's CLUSTER INFO says cluster_state:ok with all 16384 slots assigned (Redis
 * Cluster spec, "Cluster topology"; the cluster bus listens on port + 10000, "Cluster bus").
 *
 *   const cluster = await startRedisCluster();
 *   new Cluster(cluster.nodes.map(...)) or REDIS_URL=cluster.url REDIS_CLUSTER=true
 *   await cluster.stop();
 *
 * Without persistence (--save '' --appendonly no); each start is an empty cluster.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import Redis from 'ioredis';
import {
  createTempDir,
  describeExit,
  findFreePorts,
  forgetTempDir,
  ManagedProcess,
  pollUntil,
} from '../infra/managed-process';
import { redisServerArgs, waitForRedis } from './redis-server';
import { requireOnPath } from './test-deps';
import { errorMessage } from '../../src/common/error-message';

export interface RedisClusterHandle {
  /** redis://127.0.0.1:<port> of each master. */
  readonly nodes: readonly string[];
  /** The seed list for REDIS_URL (with REDIS_CLUSTER=true): the nodes, comma-separated. */
  readonly url: string;
  readonly ports: readonly number[];
  /** Stops every node (SIGTERM, SIGKILL after 5 s) and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const MASTERS = 3;
const BUS_OFFSET = 10_000;
const START_ATTEMPTS = 3;
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

async function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: HOST, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** `count` free ports p whose cluster bus port p + 10000 is free too. */
async function findClusterPorts(count: number): Promise<number[]> {
  const picked: number[] = [];
  for (let tries = 0; picked.length < count; tries++) {
    if (tries > 200) throw new Error('no free port p with p + 10000 free found on 127.0.0.1');
    const [port] = await findFreePorts(1, HOST);
    if (port === undefined || port + BUS_OFFSET > 65_535 || picked.includes(port)) continue;
    if (await tcpPortFree(port + BUS_OFFSET)) picked.push(port);
  }
  return picked;
}

/** Runs a short command to its end; resolves with its exit code and output. */
function run(
  command: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, output: `${output}${error.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

async function clusterInfo(url: string): Promise<string> {
  const c = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return String(await c.call('CLUSTER', 'INFO'));
  } finally {
    c.disconnect();
  }
}

class RedisCluster implements RedisClusterHandle {
  private readonly processes: ManagedProcess[] = [];
  private stopped = false;

  constructor(
    private readonly dir: string,
    readonly ports: readonly number[],
  ) {}

  get nodes(): string[] {
    return this.ports.map((p) => `redis://${HOST}:${p}`);
  }

  get url(): string {
    return this.nodes.join(',');
  }

  async start(server: string, cli: string): Promise<void> {
    for (const port of this.ports) {
      this.processes.push(
        ManagedProcess.spawn({
          name: `redis-server (cluster node ${port})`,
          command: server,
          args: [
            ...redisServerArgs(port, HOST, this.dir),
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(this.dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '5000',
          ],
          cwd: this.dir,
        }),
      );
    }
    const died = (): string | undefined => {
      const gone = this.processes.find((p) => p.exit !== undefined);
      return gone?.exit !== undefined ? `${gone.name} ${describeExit(gone.exit)}` : undefined;
    };
    await Promise.all(this.nodes.map((url) => waitForRedis(url, READY_TIMEOUT_MS, died)));
    const created = await run(
      cli,
      ['--cluster', 'create', ...this.ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      READY_TIMEOUT_MS,
    );
    if (created.code !== 0)
      throw new Error(`redis-cli --cluster create exited with ${String(created.code)}:\n${created.output}`);
    // Every node must agree before a client's CLUSTER SLOTS is complete.
    for (const url of this.nodes) {
      await pollUntil(
        async () => {
          const info = await clusterInfo(url);
          if (
            !/^cluster_state:ok\s*$/m.test(info) ||
            !/^cluster_slots_ok:16384\s*$/m.test(info) ||
            !new RegExp(`^cluster_known_nodes:${MASTERS}\\s*$`, 'm').test(info)
          ) {
            throw new Error(`CLUSTER INFO of ${url}: ${info.replace(/\r?\n/g, ' ').slice(0, 300)}`);
          }
        },
        { timeoutMs: READY_TIMEOUT_MS, intervalMs: 100, what: `Redis Cluster node ${url}`, abortReason: died },
      );
    }
  }

  lostAPort(): boolean {
    return /Address already in use/.test(this.logs());
  }

  logs(): string {
    return this.processes.map((p) => `--- ${p.name} ---\n${p.output().slice(-4_000)}`).join('\n');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.processes.map((p) => p.stop(STOP_GRACE_MS)));
    await rm(this.dir, { recursive: true, force: true });
    forgetTempDir(this.dir);
  }
}

/**
 * Starts a 3-master Redis Cluster on loopback and resolves once every node reports
 * cluster_state:ok. Fails with MissingTestDependencyError when redis-server or redis-cli is not
 * on PATH, or with the nodes' output when the cluster does not form.
 */
export async function startRedisCluster(): Promise<RedisClusterHandle> {
  const server = requireOnPath('redis-server', 'redis-server');
  const cli = requireOnPath('redis-cli', 'redis-tools');
  for (let attempt = 1; ; attempt++) {
    const ports = await findClusterPorts(MASTERS);
    const cluster = new RedisCluster(await createTempDir('redis-cluster'), ports);
    try {
      await cluster.start(server, cli);
      return cluster;
    } catch (error) {
      const lostPort = cluster.lostAPort();
      const logs = cluster.logs();
      await cluster.stop();
      if (attempt < START_ATTEMPTS && lostPort) continue;
      const message = errorMessage(error);
      throw new Error(`the test Redis Cluster did not start: ${message}\n${logs}`, { cause: error });
    }
  }
}
