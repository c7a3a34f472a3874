/**
 * The server under test as a child process: `node --expose-gc dist/src/main.js` on loopback with
 * CoAP and HTTP on port 0, the in-memory store and DEBUG_ENDPOINTS=true. The ports come from its
 * "listening" log line (hence LOG_LEVEL=info); every other line is drained and only counted, so
 * that a full pipe never blocks the server's synchronous logging.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cpuSeconds, rss, type Rss } from './proc';
import { errorMessage } from '../src/common/error-message';

export interface ServerOptions {
  /** Extra node flags, e.g. ["--cpu-prof", "--cpu-prof-dir=..."]. */
  readonly nodeArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** The bridge's entry point (default this build's dist/src/main.js), e.g. another build to compare with. */
  readonly mainJs?: string;
}

export interface GcResult {
  readonly gc: boolean;
  readonly heapUsed: number;
  readonly rss: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

interface ListeningLine {
  readonly msg?: string;
  readonly level?: number;
  readonly coap?: { readonly port?: number };
  readonly coaps?: { readonly port?: number } | null;
  readonly http?: { readonly port?: number } | null;
}

const STARTUP_TIMEOUT_MS = 20_000;
export const SERVER_HOST = '127.0.0.1';
const BENCH_API_TOKEN = 'bench-api-token';

export class ServerProcess {
  /** Log lines seen, and the last few at warn level or above (pino levels: 40 = warn). */
  logLines = 0;
  readonly warnings: string[] = [];

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly coapPort: number,
    readonly httpPort: number,
    /** The CoAPS (DTLS) port. */
    readonly coapsPort?: number,
  ) {}

  static start(opts: ServerOptions = {}): Promise<ServerProcess> {
    const main = opts.mainJs ?? join(__dirname, '..', 'src', 'main.js');
    const env = {
      ...process.env,
      COAP_HOST: SERVER_HOST,
      COAP_PORT: '0',
      COAPS_PORT: '0',
      HTTP_HOST: SERVER_HOST,
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      DEBUG_ENDPOINTS: 'true',
      // The device API needs a bearer token outside embedded mode (Redis or Kafka configured).
      HTTP_API_TOKEN: BENCH_API_TOKEN,
      // The whole simulated fleet shares a few loopback addresses: per-source rates off unless a
      // bench sets them (bench/flood.ts does), else one address's budget would cap the bench.
      RATE_LIMIT_SOURCE_PER_S: '0',
      RATE_LIMIT_HANDSHAKE_PER_S: '0',
      RATE_LIMIT_SOURCE_REQUESTS_PER_S: '0',
      ...opts.env,
    };
    const args = ['--expose-gc', ...(opts.nodeArgs ?? []), main];
    // Through util-linux setpriv when present: the kernel kills the server if the bench dies (same pid: setpriv execs).
    const [command, argv] =
      SETPRIV !== undefined
        ? [SETPRIV, ['--pdeathsig', 'KILL', '--', process.execPath, ...args]]
        : [process.execPath, args];
    const child = spawn(command, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000)));
    return new Promise<ServerProcess>((resolve, reject) => {
      let server: ServerProcess | undefined;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`server did not log "listening" within ${STARTUP_TIMEOUT_MS} ms: ${stderr}`));
      }, STARTUP_TIMEOUT_MS);
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (server === undefined) reject(new Error(`server exited with code ${code} before listening: ${stderr}`));
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (server !== undefined) return server.onLine(line);
        const parsed = parseLine(line);
        const coapPort = parsed?.coap?.port;
        const httpPort = parsed?.http?.port;
        if (parsed?.msg === 'listening' && coapPort !== undefined && httpPort !== undefined) {
          clearTimeout(timer);
          server = new ServerProcess(child, coapPort, httpPort, parsed.coaps?.port);
          resolve(server);
        }
      });
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  cpuSeconds(): { user: number; system: number } | undefined {
    return cpuSeconds(this.pid);
  }

  rss(): Rss | undefined {
    return rss(this.pid);
  }

  /** POST /debug/gc: a full GC (the server runs with --expose-gc), then process.memoryUsage(). */
  async gc(): Promise<GcResult> {
    return JSON.parse(await this.http('POST', '/debug/gc')) as GcResult;
  }

  /** Counters and gauges from GET /metrics, by name (label-free series only). */
  async metrics(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const line of (await this.http('GET', '/metrics')).split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*) ([0-9.eE+-]+|NaN)$/.exec(line);
      if (m) out.set(m[1] as string, Number(m[2]));
    }
    return out;
  }

  /** GET /metrics as text (histograms and labelled series included). */
  metricsText(): Promise<string> {
    return this.http('GET', '/metrics');
  }

  /** Polls GET /readyz until 200 (e.g. the Kafka producer connected), at most `timeoutMs`. */
  async waitReady(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.http('GET', '/readyz');
        return;
      } catch (err) {
        if (Date.now() > until)
          throw new Error(`server not ready within ${timeoutMs} ms: ${errorMessage(err)}`, { cause: err });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** SIGKILL now, for exit handlers (no flush). */
  killNow(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  async registrationCount(): Promise<number> {
    return (JSON.parse(await this.http('GET', '/devices?limit=1')) as { total: number }).total;
  }

  /** SIGTERM (graceful: the server closes and exits, writing a CPU profile when asked to). */
  stop(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      const kill = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      this.child.once('exit', (code) => {
        clearTimeout(kill);
        resolve(code);
      });
      this.child.kill('SIGTERM');
    });
  }

  private onLine(line: string): void {
    this.logLines++;
    const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
    if (level >= 40) {
      this.warnings.push(line.slice(0, 500));
      if (this.warnings.length > 20) this.warnings.shift();
    }
  }

  private http(method: string, path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: SERVER_HOST,
          port: this.httpPort,
          method,
          path,
          timeout: 30_000,
          headers: { authorization: `Bearer ${BENCH_API_TOKEN}` },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () =>
            (res.statusCode ?? 0) < 300
              ? resolve(body)
              : reject(new Error(`${method} ${path}: ${res.statusCode} ${body}`)),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      req.end();
    });
  }
}

const SETPRIV = ((): string | undefined => {
  if (process.platform !== 'linux') return undefined;
  for (const p of ['/usr/bin/setpriv', '/bin/setpriv']) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
})();

function parseLine(line: string): ListeningLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as ListeningLine;
  } catch {
    return undefined;
  }
}
