/**
 * One simulated device of the cluster fleet: its own UDP socket (so its own NAT mapping), plain
 * CoAP or DTLS PSK with a connection ID (RFC 9146), one request at a time (NSTART = 1, RFC 7252
 * §4.7) with CON retransmission (§4.2: ACK_TIMEOUT 2 s doubling, MAX_RETRANSMIT 4), and answers
 * to the bridge's requests (RPC downlinks). It counts what a failover must keep at zero.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { decode, encode } from '../../src/coap/codec';
import { Code, formatCode, MessageType, Method, Opt, type CoapMessage } from '../../src/coap/message';
import { getOptions, pathOptions, uintOption } from '../../src/coap/options';
import { handshakeOver, ScriptedPskClient } from '../support/dtls-psk-client';
import type { FleetCounters } from './fleet-protocol';

const ACK_TIMEOUT_MS = 2000;
const MAX_RETRANSMIT = 4;

type Kind = 'register' | 'update' | 'send';

interface Pending {
  readonly kind: Kind;
  readonly mid: number;
  readonly token: Buffer;
  readonly frame: Buffer;
  readonly seq: number;
  sentAt: number;
  tries: number;
  /** An empty ACK came: the response follows as a separate CON. */
  acked: boolean;
  readonly done: (res: CoapMessage | undefined) => void;
}

export interface DeviceSetup {
  readonly endpoint: string;
  readonly vip: string;
  readonly port: number;
  readonly queueMode: boolean;
  readonly lifetimeS: number;
  /** PSK: DTLS with this key (identity = endpoint). */
  readonly psk?: Buffer;
}

export class FleetDevice {
  private socket!: Socket;
  private dtls: ScriptedPskClient | undefined;
  private mid = randomBytes(2).readUInt16BE(0);
  private pending: Pending | undefined;
  private location: string[] = [];
  private seq = 0;
  private readonly answered = new Map<number, Buffer>();
  nextSendAt = 0;
  /** Sends paused (until the next Update). */
  held = false;
  readonly acked: number[] = [];

  constructor(
    readonly setup: DeviceSetup,
    private readonly c: FleetCounters,
  ) {}

  get busy(): boolean {
    return this.pending !== undefined;
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  async open(): Promise<void> {
    this.socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(0, () => resolve());
    });
    this.socket.on('error', () => undefined);
    if (this.setup.psk !== undefined) {
      await this.handshake();
    }
    this.socket.on('message', (buf, from) => {
      if (from.address !== this.setup.vip || from.port !== this.setup.port) {
        this.c.wrongSource++;
        return;
      }
      if (this.dtls === undefined) return this.onCoap(buf);
      for (const plain of this.dtls.unseal(buf)) this.onCoap(plain);
    });
  }

  private async handshake(): Promise<void> {
    const client = new ScriptedPskClient({
      identity: this.setup.endpoint,
      key: this.setup.psk as Buffer,
      suites: [0xc0a8],
      cidLength: 0,
    });
    await handshakeOver(client, this.socket, (d) => this.socket.send(d, this.setup.port, this.setup.vip), 15_000);
    this.c.handshakes++;
    this.dtls = client;
  }

  register(): Promise<boolean> {
    const query = [
      `ep=${this.setup.endpoint}`,
      `lt=${this.setup.lifetimeS}`,
      'lwm2m=1.1',
      `b=${this.setup.queueMode ? 'UQ' : 'U'}`,
    ];
    return new Promise((resolve) =>
      this.request('register', pathOptions(['rd'], query), Buffer.from('</1/0>,</3/0>,</3303/0>'), 40, (res) => {
        if (res?.code !== Code.CREATED) return resolve(false);
        this.location = getOptions(res, Opt.LOCATION_PATH).map((b) => b.toString('utf8'));
        this.c.registered++;
        resolve(true);
      }),
    );
  }

  update(): Promise<boolean> {
    return new Promise((resolve) =>
      this.request('update', pathOptions(this.location), Buffer.alloc(0), undefined, (res) => {
        this.c.updates++;
        this.held = false;
        if (res?.code === Code.NOT_FOUND) return void this.reregister().then(resolve);
        resolve(res?.code === Code.CHANGED);
      }),
    );
  }

  /** LwM2M Send of the next sequence number as the temperature (/3303/0/5700), SenML JSON. */
  send(): void {
    const seq = ++this.seq;
    const body = Buffer.from(JSON.stringify([{ bn: '/3303/0/', n: '5700', v: seq }]));
    this.c.sendsSent++;
    this.request(
      'send',
      pathOptions(['dp']),
      body,
      110,
      (res) => {
        if (res === undefined) this.c.sendsTimedOut++;
        else if (res.code === Code.CHANGED) {
          this.c.sendsAcked++;
          this.acked.push(seq);
        } else if (res.code === Code.SERVICE_UNAVAILABLE) this.c.sendsRefused++;
        else {
          const k = formatCode(res.code);
          this.c.sendsOther[k] = (this.c.sendsOther[k] ?? 0) + 1;
          if (this.c.unexpected.length < 20)
            this.c.unexpected.push(
              `${new Date().toISOString()} ${this.setup.endpoint} send ${k} ${res.payload.toString('utf8').slice(0, 120)}`,
            );
          if (res.code === Code.NOT_FOUND) {
            // A second before registering again, so that the test can look at what the bridge holds.
            process.send?.({
              notice: 'send-not-found',
              endpoint: this.setup.endpoint,
              localPort: this.localPort,
              at: Date.now(),
            });
            setTimeout(() => void this.reregister(), 1000);
          }
        }
      },
      seq,
    );
  }

  private async reregister(): Promise<boolean> {
    this.c.reregistrations++;
    return this.register();
  }

  /** Retransmits a CON whose ACK is late; gives up after MAX_RETRANSMIT (RFC 7252 §4.2). */
  tick(now: number): void {
    const p = this.pending;
    if (p === undefined || p.acked) {
      // A separate response that never comes: the exchange's lifetime bounds the wait.
      if (p !== undefined && now - p.sentAt > 30_000) this.finish(undefined);
      return;
    }
    if (now - p.sentAt < ACK_TIMEOUT_MS * 2 ** p.tries) return;
    if (p.tries >= MAX_RETRANSMIT) return this.finish(undefined);
    p.tries++;
    p.sentAt = now;
    this.c.retransmissions++;
    this.transmit(p.frame);
  }

  close(): void {
    this.socket.close();
  }

  private request(
    kind: Kind,
    options: CoapMessage['options'],
    payload: Buffer,
    format: number | undefined,
    done: (res: CoapMessage | undefined) => void,
    seq = 0,
  ): void {
    if (this.pending !== undefined) return done(undefined);
    this.mid = (this.mid + 1) & 0xffff;
    const token = randomBytes(4);
    const opts =
      format === undefined
        ? [...options]
        : [...options, uintOption(Opt.CONTENT_FORMAT, format)].sort((a, b) => a.number - b.number);
    const frame = encode({
      type: MessageType.CON,
      code: Method.POST,
      messageId: this.mid,
      token,
      options: opts,
      payload,
    });
    this.pending = { kind, mid: this.mid, token, frame, seq, sentAt: Date.now(), tries: 0, acked: false, done };
    this.transmit(frame);
  }

  private transmit(frame: Buffer): void {
    const datagram = this.dtls === undefined ? frame : this.dtls.seal(frame);
    this.socket.send(datagram, this.setup.port, this.setup.vip);
  }

  private finish(res: CoapMessage | undefined): void {
    const p = this.pending;
    this.pending = undefined;
    p?.done(res);
  }

  private onCoap(buf: Buffer): void {
    let msg: CoapMessage | null;
    try {
      msg = decode(buf);
    } catch {
      return;
    }
    if (msg === null) return;
    if (
      msg.code >= Method.GET &&
      msg.code <= Method.DELETE &&
      (msg.type === MessageType.CON || msg.type === MessageType.NON)
    )
      return this.answer(msg);
    const p = this.pending;
    if (p === undefined) return;
    if (msg.type === MessageType.ACK && msg.messageId === p.mid) {
      if (msg.code === Code.EMPTY) p.acked = true;
      else this.finish(msg);
      return;
    }
    if (msg.type === MessageType.RST && msg.messageId === p.mid) return this.finish(msg);
    if ((msg.type === MessageType.CON || msg.type === MessageType.NON) && msg.token.equals(p.token)) {
      if (msg.type === MessageType.CON)
        this.transmit(
          encode({
            type: MessageType.ACK,
            code: Code.EMPTY,
            messageId: msg.messageId,
            token: Buffer.alloc(0),
            options: [],
            payload: Buffer.alloc(0),
          }),
        );
      this.finish(msg);
    }
  }

  /** A request from the bridge: piggybacked answer; a repeated CON gets the same answer (§4.5). */
  private answer(req: CoapMessage): void {
    const again = this.answered.get(req.messageId);
    if (again !== undefined) return this.transmit(again);
    this.c.downlinks++;
    const content = req.code === Method.GET;
    const code = content ? Code.CONTENT : req.code === Method.DELETE ? Code.DELETED : Code.CHANGED;
    const reply = encode({
      type: MessageType.ACK,
      code,
      messageId: req.messageId,
      token: req.token,
      options: content ? [uintOption(Opt.CONTENT_FORMAT, 0)] : [],
      payload: content ? Buffer.from(String(this.seq)) : Buffer.alloc(0),
    });
    if (this.answered.size >= 16) this.answered.delete(this.answered.keys().next().value as number);
    this.answered.set(req.messageId, reply);
    this.transmit(reply);
  }
}
