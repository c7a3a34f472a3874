/**
 * OpenSSL's DTLS 1.2 client (`openssl s_client -dtls1_2`), an independent peer: it connects,
 * sends one line of application data, and the output it printed (stdout and stderr) is returned
 * once it matches `until` (an echo, an alert), once it ends, or after 10 s.
 */
import { spawn } from 'node:child_process';
import { requireOnPath } from './test-deps';

export function opensslDtlsClient(
  port: number,
  args: readonly string[],
  line: string,
  until: RegExp | string,
): Promise<string> {
  const openssl = requireOnPath('openssl', 'openssl');
  const matches = (out: string): boolean => (typeof until === 'string' ? out.includes(until) : until.test(out));
  return new Promise((resolve) => {
    const child = spawn(openssl, ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${port}`, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    const done = (): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(out);
    };
    const timer = setTimeout(done, 10_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (matches(out)) done();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('close', done);
    child.stdin.write(`${line}\n`);
  });
}
