/**
 * Edge-case and malformed registrations from an independent CoAP implementation, libcoap's
 * coap-client-notls (Debian libcoap3-bin), against our server on a real UDP port 0.
 */
import { createSocket } from 'node:dgram';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '../../src/coap/codec';
import { MessageType, Method, Opt } from '../../src/coap/message';
import { pathOptions, uintOption } from '../../src/coap/options';
import { runCoapClient } from '../support/coap-cli';
import { ScriptedPeer } from '../support/scripted-peer';
import { startTestServer, type TestServer } from '../support/test-server';

let srv: TestServer;
let dir: string;
let url: string;

beforeAll(async () => {
  srv = await startTestServer({ maxBodyBytes: 4096 });
  url = `coap://127.0.0.1:${srv.address.port}`;
  dir = mkdtempSync(join(tmpdir(), 'lwm2m-libcoap-'));
});
afterAll(async () => {
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs coap-client with verbose message logging and returns the response line ("v:1 t:ACK c:2.01 ..."). */
async function exchange(args: string[]): Promise<string> {
  const r = await runCoapClient([...args, '-v', '6', '-B', '5'], { timeoutMs: 20_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  const responses = out.split('\n').filter((l) => /^v:1 t:(ACK|NON|CON) c:[2-5]\.\d\d/.test(l.trim()));
  if (responses.length === 0) throw new Error(`coap-client got no response (exit ${r.exitCode}):\n${out}`);
  return (responses[responses.length - 1] as string).trim();
}

describe('libcoap coap-client against the registration interface', () => {
  it('registers, updates and de-registers', async () => {
    const created = await exchange([
      '-m',
      'post',
      '-t',
      '40',
      '-e',
      '</1/0>,</3/0>',
      `${url}/rd?ep=cli-1&lt=60&lwm2m=1.1&b=U`,
    ]);
    expect(created).toMatch(/c:2\.01/);
    const id = /Location-Path:rd, Location-Path:([^ ,\]]+)/.exec(created)?.[1];
    expect(id).toBeDefined();
    expect(await exchange(['-m', 'post', `${url}/rd/${id}?lt=120`])).toMatch(/c:2\.04/);
    expect((await srv.registrations.getByEndpoint('cli-1'))?.lifetime).toBe(120);
    expect(await exchange(['-m', 'delete', `${url}/rd/${id}`])).toMatch(/c:2\.02/);
    expect(await exchange(['-m', 'delete', `${url}/rd/${id}`])).toMatch(/c:4\.04/);
  });

  it('reassembles a Register sent in 64-byte Block1 blocks (RFC 7959 §2.5)', async () => {
    const links = Array.from({ length: 300 }, (_, i) => `</${3300 + (i % 40)}/${i}>`).join(',');
    const file = join(dir, 'links.txt');
    writeFileSync(file, links);
    const line = await exchange([
      '-m',
      'post',
      '-t',
      '40',
      '-b',
      '64',
      '-f',
      file,
      `${url}/rd?ep=cli-blocks&lwm2m=1.1`,
    ]);
    expect(line).toMatch(/c:2\.01/);
    expect(line).toMatch(/Block1:\d+\/_\/64/);
    const reg = await srv.registrations.getByEndpoint('cli-blocks');
    expect(reg?.objects.reduce((n, o) => n + o.instances.length, 0)).toBe(300);
  });

  it('answers 4.13 with Size1 when the body exceeds the limit (RFC 7959 §2.9.3)', async () => {
    const file = join(dir, 'big.txt');
    writeFileSync(file, 'x'.repeat(9000));
    const line = await exchange(['-m', 'post', '-t', '40', '-b', '1024', '-f', file, `${url}/rd?ep=cli-huge`]);
    expect(line).toMatch(/c:4\.13/);
    expect(line).toMatch(/Size1:4096/);
  });

  it('answers 4.02 to an unknown critical option (RFC 7252 §5.4.1)', async () => {
    expect(await exchange(['-m', 'post', '-O', '2049,x', `${url}/rd?ep=cli-opt`])).toMatch(/c:4\.02/);
  });

  it('answers 4.05 to a method the resource does not take and 4.04 to an unknown path', async () => {
    expect(await exchange(['-m', 'get', `${url}/rd`])).toMatch(/c:4\.05/);
    expect(await exchange(['-m', 'get', `${url}/nothing/here`])).toMatch(/c:4\.04/);
  });

  it('answers a NON Register with a NON response (RFC 7252 §5.2.3)', async () => {
    expect(await exchange(['-N', '-m', 'post', '-t', '40', '-e', '</3/0>', `${url}/rd?ep=cli-non`])).toMatch(
      /t:NON c:2\.01/,
    );
  });

  it.each([
    ['without ep', '/rd?lt=60', /c:4\.00/],
    ['with a bad lifetime', '/rd?ep=x&lt=-5', /c:4\.00/],
    ['with an unknown LwM2M version', '/rd?ep=x&lwm2m=9.9', /c:4\.00/],
  ])('rejects a Register %s', async (_what, path, expected) => {
    expect(await exchange(['-m', 'post', '-t', '40', '-e', '</3/0>', `${url}${path}`])).toMatch(expected);
  });

  it('rejects bad link-format with 4.00 and a reason', async () => {
    const r = await runCoapClient([
      '-m',
      'post',
      '-t',
      '40',
      '-e',
      '</3/0>;ver=1.1,</3',
      `${url}/rd?ep=cli-badlinks`,
      '-B',
      '5',
    ]);
    expect(`${r.stdout}${r.stderr}`).toMatch(/4\.00/);
    expect(await srv.registrations.getByEndpoint('cli-badlinks')).toBeUndefined();
  });
});

describe('random and truncated datagrams', () => {
  it('never crash the server; malformed CONs get RST and are counted', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    const valid = encode({
      type: MessageType.CON,
      code: Method.POST,
      messageId: 7,
      token: Buffer.from('abcd'),
      options: [...pathOptions(['rd'], ['ep=fuzz', 'lt=60']), uintOption(Opt.CONTENT_FORMAT, 40)],
      payload: Buffer.from('</3/0>'),
    });
    const before = srv.server.endpoint.stats.malformed;
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const sent: Array<Promise<void>> = [];
    for (let i = 0; i < 3000; i++) {
      let d: Buffer;
      if (i % 3 === 0)
        d = valid.subarray(0, rand(valid.length)); // truncated
      else if (i % 3 === 1)
        d = Buffer.from(Array.from({ length: rand(64) }, () => rand(256))); // random
      else {
        d = Buffer.from(valid);
        d[4 + rand(d.length - 4)] = rand(256); // one corrupted byte
      }
      sent.push(new Promise<void>((resolve) => sock.send(d, srv.address.port, '127.0.0.1', () => resolve())));
      // The server shares this event loop: let it drain its socket so the kernel buffer never overflows.
      if (i % 50 === 49) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await Promise.all(sent);
    sock.close();
    // The server still serves a normal Register afterwards.
    const dev = await ScriptedPeer.open();
    try {
      dev.send(
        {
          type: MessageType.CON,
          code: Method.POST,
          messageId: 99,
          token: Buffer.from([9]),
          options: [...pathOptions(['rd'], ['ep=after-fuzz']), uintOption(Opt.CONTENT_FORMAT, 40)],
          payload: Buffer.from('</3/0>'),
        },
        srv.address,
      );
      const r = await dev.waitFor((x) => x.msg.messageId === 99);
      expect(r.msg.code).toBe(0x41);
    } finally {
      await dev.close();
    }
    const stats = srv.server.endpoint.stats;
    expect(stats.malformed - before).toBeGreaterThan(1000);
    expect(stats.resetsOut).toBeGreaterThan(0);
  });
});
