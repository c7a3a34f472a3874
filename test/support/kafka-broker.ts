/**
 * A real Apache Kafka broker for tests: one node acting as broker and KRaft controller, run from
 * the Maven Central jars that scripts/ensure-test-deps.sh resolves (test/infra/kafka/pom.xml ->
 * .cache/kafka-classpath.txt), on the machine's Java, on free ports, in a fresh temporary
 * directory. Readiness is polled with a kafkajs admin client, never slept for.
 *
 *   const broker = await startKafkaBroker();
 *   new Kafka({ brokers: broker.brokers });
 *   await broker.down(); ...outage...; await broker.up();   // or: await broker.restart();
 *   await broker.stop();                                     // final: also removes its files
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createTempDir, describeExit, findFreePorts, ManagedProcess, pollUntil } from '../infra/managed-process';
import { LocalServer } from './local-server';
import { javaCommand, MissingTestDependencyError, REPO_ROOT } from './test-deps';
import { errorMessage } from '../../src/common/error-message';

/** Written by scripts/ensure-test-deps.sh; KAFKA_CLASSPATH_FILE overrides it. */
export function kafkaClasspathFile(): string {
  return process.env.KAFKA_CLASSPATH_FILE ?? join(REPO_ROOT, '.cache', 'kafka-classpath.txt');
}

/** The broker's Java classpath, or a MissingTestDependencyError naming the missing file or jar. */
export function requireKafkaClasspath(file = kafkaClasspathFile()): string {
  if (!existsSync(file) || statSync(file).size === 0) {
    throw new MissingTestDependencyError(
      'Kafka classpath file',
      `${file} does not exist (written by Maven from test/infra/kafka/pom.xml)`,
    );
  }
  const classpath = readFileSync(file, 'utf8').trim();
  const missingJar = classpath.split(':').find((jar) => !existsSync(jar));
  if (missingJar !== undefined) {
    throw new MissingTestDependencyError('Kafka broker jar', `${missingJar}, listed in ${file}, does not exist`);
  }
  return classpath;
}

export interface KafkaBrokerOptions {
  /** Inside this network namespace (a fresh one: the ports are then fixed, 9092 and 9093), listening on `host`. */
  netns?: { readonly name: string; readonly host: string };
  /** Partitions of auto-created topics (num.partitions); default 1. */
  partitions?: number;
  /** Bound on the wait for the broker to answer, per start; default 60 s. */
  readyTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping; default 15 s. */
  stopGraceMs?: number;
  /** JVM options; default a modest heap: -Xmx512m -Xms256m. */
  jvmArgs?: readonly string[];
  /** Extra or overriding server.properties entries. */
  properties?: Readonly<Record<string, string | number | boolean>>;
  /** Default: kafkaClasspathFile(). */
  classpathFile?: string;
}

export interface KafkaBrokerHandle {
  /** Bootstrap addresses, "127.0.0.1:<port>"; unchanged by down/up/restart. */
  readonly brokers: string[];
  /** Temporary directory holding server.properties, the data (data/) and the log (server.log). */
  readonly dir: string;
  isRunning(): boolean;
  /** Stops the broker process (SIGTERM, SIGKILL after the grace period), keeping ports and data. */
  down(): Promise<void>;
  /** Starts it again on the same ports with the same data and waits until it answers. */
  up(): Promise<void>;
  /** SIGSTOP / SIGCONT: the broker keeps its connections but answers nothing meanwhile. */
  pause(): void;
  resume(): void;
  /** down() then up(): an outage of the broker. */
  restart(): Promise<void>;
  /** Final: stops the broker and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
  /** The tail of the broker's log and console output, for diagnostics. */
  logs(maxChars?: number): string;
}

const DEFAULT_READY_TIMEOUT_MS = 60_000;
const DEFAULT_STOP_GRACE_MS = 15_000;
const POLL_INTERVAL_MS = 250;
const START_ATTEMPTS = 3;
const LOOPBACK = '127.0.0.1';

/** A KRaft cluster id: 16 random bytes in URL-safe base64 without padding, as Kafka's Uuid prints it. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id; // a leading '-' would be read as a command-line flag
  }
}

function serverProperties(
  dir: string,
  brokerPort: number,
  controllerPort: number,
  options: KafkaBrokerOptions,
): string {
  const HOST = options.netns?.host ?? LOOPBACK;
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@${HOST}:${controllerPort}`,
    listeners: `PLAINTEXT://${HOST}:${brokerPort},CONTROLLER://${HOST}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${brokerPort}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': join(dir, 'data'),
    // One node: every internal topic with one replica and few partitions.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'auto.create.topics.enable': true,
    'num.partitions': options.partitions ?? 1,
    'group.initial.rebalance.delay.ms': 0,
    // Small for a 2-core machine and a 512 MiB heap.
    'num.network.threads': 2,
    'num.io.threads': 2,
    'background.threads': 2,
    'num.recovery.threads.per.data.dir': 1,
    'log.cleaner.threads': 1,
    'log.cleaner.dedupe.buffer.size': 16 * 1024 * 1024,
    ...options.properties,
  };
  return Object.entries(props)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join('\n')
    .concat('\n');
}

function log4jProperties(logFile: string): string {
  return [
    'log4j.rootLogger=INFO, file',
    'log4j.appender.file=org.apache.log4j.FileAppender',
    `log4j.appender.file.File=${logFile}`,
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
    // As in Kafka's own config: the per-request and controller logs are noise here.
    'log4j.logger.kafka.request.logger=WARN',
    'log4j.logger.state.change.logger=WARN',
    'log4j.logger.org.apache.kafka.controller=INFO',
    '',
  ].join('\n');
}

/** Resolves when the broker at `brokers` answers a metadata request listing at least one broker. */
export async function waitForKafka(
  brokers: readonly string[],
  timeoutMs: number,
  abortReason?: () => string | undefined,
): Promise<void> {
  await pollUntil(
    async () => {
      const admin = new Kafka({
        clientId: 'lwm2m-test-readiness',
        brokers: [...brokers],
        logLevel: logLevel.NOTHING,
        connectionTimeout: 1_000,
        requestTimeout: 5_000,
        retry: { retries: 0 },
      }).admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length === 0) throw new Error('the cluster lists no broker yet');
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    { timeoutMs, intervalMs: POLL_INTERVAL_MS, what: `Kafka at ${brokers.join(',')}`, abortReason },
  );
}

class KafkaBroker extends LocalServer implements KafkaBrokerHandle {
  brokers: string[] = [];

  constructor(
    dir: string,
    private readonly classpath: string,
    private readonly options: KafkaBrokerOptions,
  ) {
    super(dir, 'Kafka broker', options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
  }

  private get propertiesFile(): string {
    return join(this.dir, 'server.properties');
  }

  private get logFile(): string {
    return join(this.dir, 'server.log');
  }

  private jvm(mainClass: string, args: readonly string[], heap: readonly string[]): string[] {
    return [
      ...heap,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${join(this.dir, 'log4j.properties')}`,
      `-Dkafka.logs.dir=${this.dir}`,
      '-cp',
      this.classpath,
      mainClass,
      ...args,
    ];
  }

  /** Writes the configuration for fresh ports and formats an empty data directory. */
  async configure(): Promise<void> {
    const [brokerPort, controllerPort] =
      this.options.netns !== undefined ? [9092, 9093] : await findFreePorts(2, LOOPBACK);
    if (brokerPort === undefined || controllerPort === undefined)
      throw new Error('findFreePorts returned too few ports');
    this.brokers = [`${this.options.netns?.host ?? LOOPBACK}:${brokerPort}`];
    // A fresh start: forget an earlier failed attempt's log and data.
    writeFileSync(this.logFile, '');
    this.forgetRuns();
    await rm(join(this.dir, 'data'), { recursive: true, force: true });
    mkdirSync(join(this.dir, 'data'));
    writeFileSync(this.propertiesFile, serverProperties(this.dir, brokerPort, controllerPort, this.options));
    writeFileSync(join(this.dir, 'log4j.properties'), log4jProperties(this.logFile));

    const format = ManagedProcess.spawn({
      name: 'Kafka StorageTool',
      command: javaCommand(),
      args: this.jvm(
        'kafka.tools.StorageTool',
        ['format', '-t', newClusterId(), '-c', this.propertiesFile],
        ['-Xmx256m', '-XX:TieredStopAtLevel=1'],
      ),
      cwd: this.dir,
    });
    const exit = await format.exited;
    if (exit.code !== 0) {
      throw new Error(`kafka.tools.StorageTool format ${describeExit(exit)}:\n${format.output()}`);
    }
  }

  protected spawn(): ManagedProcess {
    return ManagedProcess.spawn({
      name: 'Kafka broker',
      command: javaCommand(),
      args: this.jvm('kafka.Kafka', [this.propertiesFile], this.options.jvmArgs ?? ['-Xmx512m', '-Xms256m']),
      cwd: this.dir,
      ...(this.options.netns !== undefined ? { netns: this.options.netns.name } : {}),
    });
  }

  protected waitReady(child: ManagedProcess): Promise<void> {
    return waitForKafka(this.brokers, this.options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS, () =>
      child.exit !== undefined ? `the broker process ${describeExit(child.exit)}` : undefined,
    );
  }

  protected override startFailure(error: unknown): Error {
    const message = errorMessage(error);
    return new Error(`the test Kafka broker did not start: ${message}\n--- broker log (tail) ---\n${this.logs(8_000)}`);
  }

  /** True when the last run died because a port was taken (someone bound it after findFreePorts). */
  lastRunLostItsPort(): boolean {
    return /Address already in use|BindException/.test(this.logs(200_000));
  }

  logs(maxChars = 20_000): string {
    let serverLog: string;
    try {
      serverLog = readFileSync(this.logFile, 'utf8');
    } catch {
      serverLog = '(no server.log)';
    }
    const text = `${serverLog}\n--- console ---\n${this.consoleOutput()}`;
    return text.length > maxChars ? text.slice(-maxChars) : text;
  }
}

/**
 * Starts one Kafka broker+controller (KRaft) in a fresh temporary directory on free ports and
 * resolves once it answers. Fails with a MissingTestDependencyError when the classpath file
 * (scripts/ensure-test-deps.sh) is missing, or with the broker's log when it does not come up.
 */
export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBrokerHandle> {
  const classpath = requireKafkaClasspath(options.classpathFile);
  const dir = await createTempDir('kafka');
  const broker = new KafkaBroker(dir, classpath, options);
  try {
    for (let attempt = 1; ; attempt++) {
      await broker.configure();
      try {
        await broker.launch();
        return broker;
      } catch (error) {
        if (attempt >= START_ATTEMPTS || !broker.lastRunLostItsPort()) throw error;
        // A port chosen as free was taken meanwhile: choose new ones and start from scratch.
      }
    }
  } catch (error) {
    await broker.stop();
    throw error;
  }
}
