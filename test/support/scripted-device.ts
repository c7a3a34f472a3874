/**
 * A scripted LwM2M device on a real UDP socket: it registers with the query and links a test
 * gives, then answers each request of the bridge as the test's script says (a piggybacked
 * response, an empty ACK and silence, an error code), so that a test can reproduce the
 * behaviours of embedded clients that lack operations or formats. Values are encoded with the
 * project's codecs (the device side is not what these tests prove). Every request received is
 * kept, for assertions on what the bridge asked and in which format.
 */
import { Code, MessageType, Method, Opt, type CoapMessage } from '../../src/coap/message';
import { getOptions, getUintOption, pathOptions, uintOption, uriPath } from '../../src/coap/options';
import { createDefaultCodecs } from '../../src/lwm2m/codec/default-codecs';
import { createBuiltinRegistry } from '../../src/lwm2m/model/builtin';
import type { LwM2mNode } from '../../src/lwm2m/node';
import { parsePath } from '../../src/lwm2m/path';
import type { Peer } from '../../src/transport/types';
import { ScriptedPeer, type Received } from './scripted-peer';

const codecs = createDefaultCodecs();
const model = createBuiltinRegistry();

/** What the device does with one request. */
export type Answer =
  | { readonly kind: 'content'; readonly node: LwM2mNode; readonly format: number; readonly observe?: number }
  | { readonly kind: 'code'; readonly code: number }
  /** Acknowledge with an empty ACK and never answer (RFC 7252 §5.2.2 separate response that never comes). */
  | { readonly kind: 'empty-ack' };

export type Script = (request: Received, device: ScriptedDevice) => Answer;

export interface RegisterOptions {
  readonly endpoint: string;
  /** "1.0", "1.1"... (the `lwm2m` query parameter; for "1.0" none is sent, as 1.0 clients do). */
  readonly version: string;
  readonly links: string;
  readonly lifetime?: number;
}

export class ScriptedDevice {
  /** Every request of the bridge, in order. */
  readonly requests: Received[] = [];
  /** Location of the registration (`/rd/<id>`), once registered. */
  location = '';
  private mid = 1;
  private closed = false;
  private serving: Promise<void> = Promise.resolve();

  private constructor(
    readonly peer: ScriptedPeer,
    private server: Peer,
    private script: Script,
  ) {}

  /** Registers (expecting 2.01) and serves the bridge's requests with `script` until closed. */
  static async register(server: Peer, opts: RegisterOptions, script: Script): Promise<ScriptedDevice> {
    const device = new ScriptedDevice(await ScriptedPeer.open(), server, script);
    device.serving = device.serve();
    const query = [
      `ep=${opts.endpoint}`,
      `lt=${opts.lifetime ?? 300}`,
      ...(opts.version === '1.0' ? [] : [`lwm2m=${opts.version}`]),
    ];
    const created = await device.request(Method.POST, ['rd'], query, opts.links);
    if (created.code !== Code.CREATED) throw new Error(`Register of ${opts.endpoint} answered ${created.code}`);
    device.location = `/${getOptions(created, Opt.LOCATION_PATH)
      .map((b) => b.toString('utf8'))
      .join('/')}`;
    return device;
  }

  /** Sends an Update with new links, to `server` (another instance, say); resolves with the response code. */
  async update(links: string, server: Peer = this.server): Promise<number> {
    this.server = server;
    const segments = this.location.split('/').filter((s) => s !== '');
    return (await this.request(Method.POST, segments, [], links)).code;
  }

  /** Requests received so far whose code is `method` (and whose Uri-Path is `path`, when given). */
  received(method: number, path?: string): Received[] {
    return this.requests.filter(
      (r) => r.msg.code === method && (path === undefined || `/${uriPath(r.msg).join('/')}` === path),
    );
  }

  setScript(script: Script): void {
    this.script = script;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.peer.close();
    await this.serving.catch(() => undefined);
  }

  /** A CON request of the device; its response is taken off the queue before serving starts. */
  private async request(
    code: number,
    path: readonly string[],
    query: readonly string[],
    links: string,
  ): Promise<CoapMessage> {
    const messageId = this.mid++;
    this.peer.send(
      {
        type: MessageType.CON,
        code,
        messageId,
        token: Buffer.from([messageId & 0xff]),
        options: [...pathOptions([...path], [...query]), uintOption(Opt.CONTENT_FORMAT, 40)],
        payload: Buffer.from(links),
      },
      this.server,
    );
    return (await this.waitingFor(messageId)).msg;
  }

  private readonly responseWaiters = new Map<number, (r: Received) => void>();

  private waitingFor(messageId: number): Promise<Received> {
    return new Promise<Received>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response to device request ${messageId}`)), 10_000);
      this.responseWaiters.set(messageId, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  private async serve(): Promise<void> {
    while (!this.closed) {
      let r: Received;
      try {
        r = await this.peer.next(60_000);
      } catch {
        continue; // quiet for a minute, or closed
      }
      this.dispatch(r);
    }
  }

  private dispatch(r: Received): void {
    const m = r.msg;
    if (m.type === MessageType.ACK || m.type === MessageType.RST) {
      this.responseWaiters.get(m.messageId)?.(r);
      this.responseWaiters.delete(m.messageId);
      return;
    }
    if (m.type !== MessageType.CON && m.type !== MessageType.NON) return;
    this.requests.push(r);
    this.answer(r, this.script(r, this));
  }

  private answer(r: Received, a: Answer): void {
    const { msg, from } = r;
    if (a.kind === 'empty-ack') {
      this.peer.send({ type: MessageType.ACK, code: Code.EMPTY, messageId: msg.messageId }, from);
      return;
    }
    if (a.kind === 'code') {
      this.peer.send({ type: MessageType.ACK, code: a.code, messageId: msg.messageId, token: msg.token }, from);
      return;
    }
    const path = parsePath(`/${uriPath(msg).join('/')}`);
    const payload = codecs.encodeNode(a.format, a.node, path, { model });
    this.peer.send(
      {
        type: MessageType.ACK,
        code: Code.CONTENT,
        messageId: msg.messageId,
        token: msg.token,
        options: [
          ...(a.observe !== undefined ? [uintOption(Opt.OBSERVE, a.observe)] : []),
          uintOption(Opt.CONTENT_FORMAT, a.format),
        ],
        payload,
      },
      from,
    );
  }
}

/** The Accept option of a request (undefined when absent). */
export function acceptOf(r: Received): number | undefined {
  return getUintOption(r.msg, Opt.ACCEPT);
}

/** The Content-Format option of a request (undefined when absent). */
export function contentFormatOf(r: Received): number | undefined {
  return getUintOption(r.msg, Opt.CONTENT_FORMAT);
}
