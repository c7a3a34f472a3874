/**
 * A bridge deployment as Kubernetes runs it, on one machine: the load-balancer network of
 * ../support/netns/lb-network.ts, a real Redis and a real Kafka broker on the node, bridge
 * instances in pod namespaces behind the Service's VIP, and the operations kube-proxy and a
 * Deployment perform (endpoints added when ready, removed with their conntrack flows, pods
 * killed, terminated and replaced). Shared by test/cluster and bench:failover.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { startBridgeProcess, type BridgeProcess } from '../support/bridge-process';
import { startKafkaBroker, type KafkaBrokerHandle } from '../support/kafka-broker';
import { KafkaRecords } from '../support/kafka-records';
import { LbNetwork, type Pod } from '../support/netns/lb-network';
import { startRedisServer, type RedisHandle } from '../support/redis-server';
import { pollUntil } from '../infra/managed-process';

export interface Instance {
  readonly pod: Pod;
  readonly bridge: BridgeProcess;
}

/** The profile of the real Leshan client: its temperature observed and published as telemetry. */
export const LESHAN_PROFILE = {
  name: 'cluster-leshan',
  updatedAt: '2026-12-07T00:00:00Z',
  unmappedPaths: 'drop',
  observeAttr: { keyName: { '/3303/0/5700': 'temperature' }, observe: ['/3303/0/5700'], telemetry: ['/3303/0/5700'] },
};

export class Cluster {
  readonly run = randomUUID().slice(0, 8);
  readonly prefix = `cl-${this.run}.`;
  readonly instances: Instance[] = [];
  /** Every instance's log lines (warnings and errors; info while starting), kept after it went. */
  private readonly logs: Array<{ pod: string; lines: readonly string[] }> = [];
  records!: KafkaRecords;
  producer!: Producer;
  private profilesDir = '';

  private constructor(
    readonly net: LbNetwork,
    readonly redis: RedisHandle,
    readonly kafka: KafkaBrokerHandle,
  ) {}

  static async start(): Promise<Cluster> {
    const net = LbNetwork.create();
    try {
      const [redis, kafka] = await Promise.all([
        startRedisServer({ netns: { name: net.nodeNs, host: net.nodeIp } }),
        startKafkaBroker({ netns: { name: net.nodeNs, host: net.nodeIp }, partitions: 3 }),
      ]);
      const c = new Cluster(net, redis, kafka);
      await c.connect();
      return c;
    } catch (err) {
      net.destroy();
      throw err;
    }
  }

  private async connect(): Promise<void> {
    this.profilesDir = await mkdtemp(join(tmpdir(), 'cluster-profiles-'));
    await writeFile(join(this.profilesDir, 'leshan.json'), JSON.stringify(LESHAN_PROFILE));
    const topics = ['telemetry', 'events', 'rpc.responses', 'rpc.requests', 'devices'].map((t) => `${this.prefix}${t}`);
    this.records = await KafkaRecords.follow(this.kafka.brokers, topics.slice(0, 3));
    const kafka = new Kafka({ clientId: 'cluster-test', brokers: this.kafka.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin
      .createTopics({ topics: [{ topic: topics[3] as string, numPartitions: 3 }], waitForLeaders: true })
      .catch(() => undefined);
    await admin.disconnect();
    this.producer = kafka.producer();
    await this.producer.connect();
  }

  /** What every pod's container gets: the chart's environment, on the node's Redis and Kafka. */
  env(pod: Pod): Record<string, string> {
    return {
      INSTANCE_ID: pod.name,
      COAP_HOST: '0.0.0.0',
      COAP_PORT: '5683',
      COAPS_PORT: '5684',
      HTTP_HOST: '0.0.0.0',
      HTTP_PORT: '8080',
      HTTP_API_TOKEN: 'secret',
      LOG_LEVEL: 'warn',
      REDIS_URL: this.redis.url,
      REDIS_KEY_PREFIX: `cl-${this.run}`,
      KAFKA_BROKERS: this.kafka.brokers.join(','),
      KAFKA_TOPIC_PREFIX: this.prefix,
      DTLS_SHARED_SECRET: `cluster-secret-${this.run}`,
      INSTANCE_HEARTBEAT_MS: '500',
      KAFKA_RPC_SESSION_TIMEOUT_MS: '6000',
      KAFKA_UNAVAILABLE_AFTER_MS: '3000',
      SHUTDOWN_DRAIN_MS: '1000',
      SHUTDOWN_TIMEOUT_MS: '8000',
      RPC_DEFAULT_TIMEOUT_MS: '90000',
      LWM2M_QUEUE_AWAKE_MS: '5000',
      PROFILES_DIR: this.profilesDir,
      PROFILE_RULES: JSON.stringify([{ pattern: 'leshan-*', profile: LESHAN_PROFILE.name }]),
      // The whole fleet reaches the pods from one NAT address (a cellular CGNAT): per-source rates
      // off, as an operator with such a NAT would raise them (README "Configuration").
      RATE_LIMIT_SOURCE_PER_S: '0',
      RATE_LIMIT_HANDSHAKE_PER_S: '0',
      RATE_LIMIT_SOURCE_REQUESTS_PER_S: '0',
    };
  }

  /** A Deployment's new pod: started, and added to the Service's endpoints once /readyz says ready. */
  async addInstance(): Promise<Instance> {
    const pod = this.net.addPod();
    const env = this.env(pod);
    // The bridge logs at warn; the "listening" line it waits for is at info.
    const bridge = await startBridgeProcess({ ...env, LOG_LEVEL: 'info' }, { netns: pod.ns, timeoutMs: 60_000 });
    await pollUntil(
      async () => {
        const res = await fetch(`http://${pod.ip}:8080/readyz`);
        if (res.status !== 200) throw new Error(`/readyz answered ${res.status}`);
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `${pod.name} ready` },
    );
    const instance = { pod, bridge };
    this.logs.push({ pod: pod.name, lines: bridge.lines });
    this.instances.push(instance);
    this.net.setBackends(this.instances.map((i) => i.pod));
    return instance;
  }

  /** kube-proxy on an endpoint's removal: out of the DNAT rule, its conntrack flows deleted. */
  private unpublish(instance: Instance): number {
    this.instances.splice(this.instances.indexOf(instance), 1);
    this.net.setBackends(this.instances.map((i) => i.pod));
    return this.net.forgetFlowsTo(instance.pod);
  }

  /** A crashed pod (kill -9); the endpoint goes when the node notices, `noticeMs` later. Returns the flows it had. */
  async kill(instance: Instance, noticeMs = 1000): Promise<number> {
    await instance.bridge.kill();
    await new Promise((r) => setTimeout(r, noticeMs));
    const flows = this.unpublish(instance);
    this.net.removePod(instance.pod);
    return flows;
  }

  /** A pod deleted by a rolling update: endpoint removed (and its flows), then SIGTERM. Resolves with the exit code. */
  async terminate(instance: Instance): Promise<number | null> {
    this.unpublish(instance);
    const code = await instance.bridge.terminate();
    this.net.removePod(instance.pod);
    return code;
  }

  /** PSK credentials on the compacted devices topic (as the platform provisions them). */
  async provisionPsk(endpoints: readonly string[], key: (identity: string) => Buffer): Promise<void> {
    for (let i = 0; i < endpoints.length; i += 500) {
      const messages = endpoints.slice(i, i + 500).map((endpoint) => ({
        key: endpoint,
        value: JSON.stringify({
          endpoint,
          credentials: { mode: 'psk', identity: endpoint, key: key(endpoint).toString('hex') },
        }),
      }));
      await this.producer.send({ topic: `${this.prefix}devices`, messages });
    }
  }

  /** An RPC record on the requests topic; resolves with its id. */
  async rpc(endpoint: string, method: string, params: Record<string, unknown>, timeoutMs = 90_000): Promise<string> {
    const id = `rpc-${randomUUID()}`;
    await this.producer.send({
      topic: `${this.prefix}rpc.requests`,
      messages: [{ key: endpoint, value: JSON.stringify({ id, endpoint, method, params, timeoutMs }) }],
    });
    return id;
  }

  /** Writes every instance's log to one file in the temporary directory; returns its path. */
  writeLogs(): string {
    const file = join(tmpdir(), `cluster-${this.run}.log`);
    writeFileSync(file, this.logs.map((l) => l.lines.map((line) => `${l.pod} ${line}`).join('\n')).join('\n'));
    return file;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.instances.map((i) => i.bridge.kill()));
    await this.producer?.disconnect().catch(() => undefined);
    await this.records?.close().catch(() => undefined);
    await Promise.allSettled([this.redis.stop(), this.kafka.stop()]);
    if (this.profilesDir !== '') await rm(this.profilesDir, { recursive: true, force: true });
    this.net.destroy();
  }
}
