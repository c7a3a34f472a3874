/**
 * Runs an Eclipse Leshan client launcher as a child process: test/interop/leshan-client (Leshan 2.x,
 * LwM2M 1.1) or, for `lwm2mVersion: '1.0'`, test/interop/leshan1-client (Leshan 1.x, LwM2M 1.0).
 * Both speak the same line protocol: commands on stdin, one event per stdout line (READY, REGISTERED <id>,
 * UPDATED, DEREGISTERED, WRITTEN <path> <value>, EXECUTED <path> [args], CREATED/DELETED <path>,
 * SENT ok|error ..., STOPPED). Synchronisation is on those lines, never on sleeps.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { javaCommand, MissingTestDependencyError, requireLeshan1ClientJar, requireLeshanClientJar } from './test-deps';

export type LeshanContentFormat = 'tlv' | 'json' | 'senml-json' | 'senml-cbor' | 'cbor' | 'text' | 'opaque' | 'link';

export interface LeshanClientOptions {
  serverPort: number;
  endpoint: string;
  /** Registration lifetime in seconds (default 300). */
  lifetime?: number;
  /**
   * '1.1' (default): the Leshan 2.x launcher. '1.0': the Leshan 1.x launcher, which registers with lwm2m=1.0,
   * knows TLV, LwM2M JSON, text and opaque only, has no Send, and takes only PSK for DTLS; the options it
   * cannot honour (sendFormat, rpk, x509, cidLength, SenML/CBOR formats) are refused with an error.
   */
  lwm2mVersion?: '1.0' | '1.1';
  host?: string;
  queueMode?: boolean;
  /** Content formats the client supports (Leshan's default: all it knows; 1.0: tlv, json, text, opaque, link). */
  formats?: readonly LeshanContentFormat[];
  /** Format of LwM2M Send (default senml-cbor). */
  sendFormat?: 'senml-cbor' | 'senml-json';
  /** Period of the 3303 Sensor Value changes in ms (default 1000). */
  tickMs?: number;
  /** DTLS with PSK: the server URI becomes coaps://, serverPort the CoAPS port. Key in hex. */
  psk?: { readonly identity: string; readonly keyHex: string };
  /** DTLS with a raw public key (RFC 7250): PEM files (private key in PKCS#8); serverPort the CoAPS port. */
  rpk?: { readonly clientKey: string; readonly clientPublicKey: string; readonly serverPublicKey: string };
  /** DTLS with X.509: PEM files; Leshan checks that the server's certificate is this one (usage 3). */
  x509?: { readonly clientKey: string; readonly clientCert: string; readonly serverCert: string };
  /** Makes the client use DTLS connection IDs of this length (RFC 9146; 0: it only uses the server's). */
  cidLength?: number;
  /** Defaults to the jar built by scripts/ensure-test-deps.sh (the 1.x one for lwm2mVersion '1.0'). */
  jarPath?: string;
  /** Run the client inside this network namespace (behind a test NAT). */
  netns?: string;
}

export interface LeshanClientHandle {
  readonly endpoint: string;
  /**
   * Resolves with the earliest stdout line matching `pattern` that no earlier waitFor returned,
   * whether already printed or still to come; so waiting twice for /^UPDATED$/ needs two updates.
   * Rejects on timeout or when the client exits first.
   */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Writes one command line to the client's stdin: update, deregister, send <path>..., quit. */
  send(command: string): void;
  /** Ends the client (quit, then SIGKILL if it lingers) and resolves once the process is gone. */
  stop(): Promise<void>;
  /** Every stdout line so far. */
  readonly lines: readonly string[];
  /** stderr so far (Leshan's logs), for diagnostics. */
  stderr(): string;
}

const DEFAULT_WAIT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const STDERR_LIMIT = 64 * 1024;

interface Waiter {
  readonly pattern: RegExp;
  readonly resolve: (line: string) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const running = new Set<LeshanClientProcess>();
process.once('exit', () => {
  for (const client of running) client.killNow();
});

class LeshanClientProcess implements LeshanClientHandle {
  readonly lines: string[] = [];
  /** Indexes of lines already returned by a waitFor. */
  private readonly consumed = new Set<number>();
  private stderrText = '';
  private readonly waiters = new Set<Waiter>();
  private exitDescription: string | undefined;
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly endpoint: string,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    running.add(this);
    child.stdin.on('error', () => {
      // EPIPE once the client has exited; the exit itself is reported to waiters.
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderrText = (this.stderrText + chunk).slice(-STDERR_LIMIT);
    });
    createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    this.exited = new Promise((resolve) => {
      // 'close' comes after stdout has been fully read, so every line reached the waiters first.
      child.once('close', (code, signal) => {
        running.delete(this);
        this.exitDescription = signal !== null ? `killed by ${signal}` : `exited with code ${String(code)}`;
        for (const waiter of this.waiters) {
          this.settle(
            waiter,
            new Error(this.failure(`client ${this.exitDescription} while waiting for ${String(waiter.pattern)}`)),
          );
        }
        resolve();
      });
    });
  }

  waitFor(pattern: RegExp, timeoutMs = DEFAULT_WAIT_MS): Promise<string> {
    const matcher = new RegExp(pattern.source, pattern.flags.replace('g', '').replace('y', ''));
    for (let i = 0; i < this.lines.length; i++) {
      if (!this.consumed.has(i) && matcher.test(this.lines[i])) {
        this.consumed.add(i);
        return Promise.resolve(this.lines[i]);
      }
    }
    if (this.exitDescription !== undefined) {
      return Promise.reject(
        new Error(this.failure(`client ${this.exitDescription}; no line matches ${String(pattern)}`)),
      );
    }
    return new Promise<string>((resolve, reject) => {
      const waiter: Waiter = {
        pattern: matcher,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.settle(waiter, new Error(this.failure(`no line matched ${String(pattern)} within ${timeoutMs} ms`)));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  send(command: string): void {
    if (this.exitDescription !== undefined || !this.child.stdin.writable) {
      throw new Error(this.failure(`cannot send "${command}": client ${this.exitDescription ?? 'stdin closed'}`));
    }
    this.child.stdin.write(`${command}\n`);
  }

  stop(): Promise<void> {
    this.stopping ??= this.terminate();
    return this.stopping;
  }

  stderr(): string {
    return this.stderrText;
  }

  /** Synchronous last resort when the test process itself exits. */
  killNow(): void {
    this.child.kill('SIGKILL');
  }

  private async terminate(): Promise<void> {
    if (this.exitDescription !== undefined) return;
    if (this.child.stdin.writable) this.child.stdin.end('quit\n');
    let timer: NodeJS.Timeout | undefined;
    const lingering = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
    });
    const killed = await Promise.race([this.exited.then(() => false), lingering]);
    clearTimeout(timer);
    if (killed) this.child.kill('SIGKILL');
    await this.exited;
  }

  private onLine(line: string): void {
    const index = this.lines.push(line) - 1;
    for (const waiter of this.waiters) {
      if (waiter.pattern.test(line)) {
        this.consumed.add(index); // one line answers one waiter, the oldest
        this.settle(waiter, line);
        return;
      }
    }
  }

  private settle(waiter: Waiter, outcome: string | Error): void {
    if (!this.waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }

  private failure(what: string): string {
    const recent = this.lines.slice(-30).join('\n    ');
    const stderrTail = this.stderrText.slice(-4000);
    return `Leshan client "${this.endpoint}": ${what}\n  stdout:\n    ${recent}\n  stderr (tail):\n${stderrTail}`;
  }
}

function launcherArgs(opts: LeshanClientOptions): string[] {
  const host = opts.host ?? '127.0.0.1';
  const authority = host.includes(':') ? `[${host}]:${opts.serverPort}` : `${host}:${opts.serverPort}`;
  const secure = opts.psk !== undefined || opts.rpk !== undefined || opts.x509 !== undefined;
  const args = ['--server', `${secure ? 'coaps' : 'coap'}://${authority}`, '--endpoint', opts.endpoint];
  if (opts.psk !== undefined) args.push('--psk-identity', opts.psk.identity, '--psk-key', opts.psk.keyHex);
  if (opts.rpk !== undefined)
    args.push(
      '--client-key',
      opts.rpk.clientKey,
      '--client-public-key',
      opts.rpk.clientPublicKey,
      '--server-public-key',
      opts.rpk.serverPublicKey,
    );
  if (opts.x509 !== undefined)
    args.push(
      '--client-key',
      opts.x509.clientKey,
      '--client-cert',
      opts.x509.clientCert,
      '--server-cert',
      opts.x509.serverCert,
    );
  if (opts.cidLength !== undefined) args.push('--cid-length', String(opts.cidLength));
  if (opts.lifetime !== undefined) args.push('--lifetime', String(opts.lifetime));
  if (opts.lwm2mVersion !== undefined) args.push('--lwm2m-version', opts.lwm2mVersion);
  if (opts.queueMode === true) args.push('--queue-mode');
  if (opts.formats !== undefined) args.push('--formats', opts.formats.join(','));
  if (opts.sendFormat !== undefined) args.push('--send-format', opts.sendFormat);
  if (opts.tickMs !== undefined) args.push('--tick-ms', String(opts.tickMs));
  return args;
}

/** The formats of LwM2M 1.0 (OMA-TS-LightweightM2M-V1_0 §6.4) that the Leshan 1.x launcher accepts. */
const LWM2M_1_0_FORMATS: ReadonlySet<LeshanContentFormat> = new Set(['tlv', 'json', 'text', 'opaque', 'link']);

/** The options the Leshan 1.x launcher (LwM2M 1.0) cannot honour, each with the reason; empty when all can be. */
export function unsupportedFor10(opts: LeshanClientOptions): string[] {
  const problems: string[] = [];
  if (opts.sendFormat !== undefined) problems.push('sendFormat (LwM2M 1.0 has no Send operation)');
  if (opts.rpk !== undefined) problems.push('rpk (the 1.x launcher supports only PSK for DTLS)');
  if (opts.x509 !== undefined) problems.push('x509 (the 1.x launcher supports only PSK for DTLS)');
  if (opts.cidLength !== undefined)
    problems.push('cidLength (DTLS connection IDs, RFC 9146, are not in the 1.x launcher)');
  const foreign = (opts.formats ?? []).filter((f) => !LWM2M_1_0_FORMATS.has(f));
  if (foreign.length > 0)
    problems.push(`formats ${foreign.join(', ')} (LwM2M 1.0 knows only ${[...LWM2M_1_0_FORMATS].join(', ')})`);
  return problems;
}

/**
 * Starts a Leshan client and resolves once it printed READY (it is then registering on its own;
 * wait for REGISTERED). Rejects, naming what is missing, when java or the launcher jar is absent.
 */
export async function startLeshanClient(opts: LeshanClientOptions): Promise<LeshanClientHandle> {
  const v10 = opts.lwm2mVersion === '1.0';
  if (v10) {
    const problems = unsupportedFor10(opts);
    if (problems.length > 0)
      throw new Error(`Leshan client "${opts.endpoint}" as LwM2M 1.0 cannot take: ${problems.join('; ')}`);
  }
  const jar = v10 ? requireLeshan1ClientJar(opts.jarPath) : requireLeshanClientJar(opts.jarPath);
  const java = javaCommand();
  // Fast JVM start-up matters more than peak speed for a short-lived test client.
  const jvm = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-jar', jar, ...launcherArgs(opts)];
  const [command, args] = opts.netns !== undefined ? ['ip', ['netns', 'exec', opts.netns, java, ...jvm]] : [java, jvm];
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new MissingTestDependencyError('java', `cannot run ${java}: ${error.message}`)
          : error,
      );
    });
  });
  await spawned;
  const client = new LeshanClientProcess(opts.endpoint, child);
  try {
    await client.waitFor(/^READY$/);
  } catch (error) {
    await client.stop();
    throw error;
  }
  return client;
}

/** Stops every client still running (for afterAll/afterEach safety nets). */
export async function stopAllLeshanClients(): Promise<void> {
  await Promise.all([...running].map((client) => client.stop()));
}
