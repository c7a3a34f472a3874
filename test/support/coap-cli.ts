/**
 * Runs libcoap's command-line client (Debian libcoap3-bin), an independent CoAP/DTLS peer.
 * Example: runCoapClient(['-m', 'get', '-B', '5', `coap://127.0.0.1:${port}/.well-known/core`]).
 */
import { spawn } from 'node:child_process';
import { requireOnPath } from './test-deps';

export type CoapClientBinary = 'coap-client-notls' | 'coap-client-openssl' | 'coap-client-gnutls';

export interface CoapCliOptions {
  /** Which libcoap build to run (default coap-client-notls; DTLS needs openssl or gnutls). */
  binary?: CoapClientBinary;
  /** Upper bound after which the process is killed (default 30 s); use coap-client's -B for its own wait. */
  timeoutMs?: number;
}

export interface CoapCliResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  /** stdout decoded as UTF-8 (the payload of the response, when there is one). */
  readonly stdout: string;
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

/** The absolute path of the libcoap client; throws MissingTestDependencyError when absent. */
export function coapClientPath(binary: CoapClientBinary = 'coap-client-notls'): string {
  return requireOnPath(binary, 'libcoap3-bin');
}

export function runCoapClient(args: readonly string[], opts: CoapCliOptions = {}): Promise<CoapCliResult> {
  const path = coapClientPath(opts.binary);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(path, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(stdout);
      resolve({
        exitCode,
        signal,
        timedOut,
        stdout: stdoutBytes.toString('utf8'),
        stdoutBytes,
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}
