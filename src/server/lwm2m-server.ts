/**
 * The LwM2M server: wires the CoAP endpoint (one socket, both roles), block-wise layers, the
 * registration interface, Send, notifications, expiry and the device-management operations.
 * State lives behind the store interfaces; consumers listen to `events`.
 */
import type { SecurityMode } from './registration/access';
import { BlockwiseClient } from '../coap/blockwise-client';
import { BlockwiseServer } from '../coap/blockwise-server';
import { CoapEndpoint, type CoapEndpointOptions, type RequestHandler } from '../coap/endpoint';
import { exchangeLifetimeMs, type TransmissionParams } from '../coap/params';
import type { CoapEventSink } from '../coap/stats';
import { BridgeError } from '../common/errors';
import type { NotificationAttributes } from '../lwm2m/attributes';
import type { ContentCodecs } from '../lwm2m/codec/registry';
import type { ObjectModelLookup } from '../lwm2m/model/types';
import type { LwM2mNode, ObjectInstance } from '../lwm2m/node';
import type { LwM2mPath } from '../lwm2m/path';
import type { ObservationStore } from './observation/observation-store';
import type { RegistrationStore } from './registration/registration-store';
import type { DatagramTransport } from '../transport/types';
import {
  MemoryCapabilityStore,
  type CapabilityFact,
  type CapabilityStore,
  type DeviceCapabilities,
} from './capabilities/capability-store';
import type { DownlinkContext, RequestOptions } from './downlink/context';
import { FormatPolicy, type FormatPreferences } from './downlink/formats';
import { cancelObservation, observe, observeComposite } from './downlink/observe';
import { discover, read, readComposite } from './downlink/read';
import type { OperationResult } from './downlink/result';
import {
  create,
  deleteInstance,
  execute,
  write,
  writeAttributes,
  writeComposite,
  type WriteMode,
} from './downlink/write';
import { ServerEvents, type NodesByPath } from './events';
import { NotificationHandler } from './observation/notification-handler';
import { ObservationLifecycle } from './observation/observation-lifecycle';
import { RegistrationHandler } from './registration/registration-handler';
import type { Registration } from './registration/registration';
import { createRouter } from './router';
import { SendHandler, type SendEntries } from './send/send-handler';

export interface LwM2mServerOptions {
  readonly transport: DatagramTransport;
  readonly registrations: RegistrationStore;
  readonly observations: ObservationStore;
  readonly codecs: ContentCodecs;
  readonly model: ObjectModelLookup;
  readonly transmission: TransmissionParams;
  readonly maxPeers: number;
  readonly blockSzx: number;
  readonly maxBodyBytes: number;
  readonly maxReassemblies: number;
  readonly maxReassemblyBytes: number;
  /** Block-wise bytes held per source address at most (DESIGN invariant 5). */
  readonly maxReassemblyBytesPerSource?: number;
  /** Message size and option-count limits of the CoAP endpoint, and where they count (DESIGN invariant 5). */
  readonly coapLimits?: Pick<CoapEndpointOptions, 'maxMessageBytes' | 'maxOptions' | 'limits'>;
  /** Wraps the request chain before block-wise reassembly: the per-endpoint request rate (src/coap/request-limiter.ts). */
  readonly limitRequests?: (inner: RequestHandler) => RequestHandler;
  readonly requestTimeoutMs: number;
  /** After an empty ACK, how long a separate response may take (default: the request's deadline). */
  readonly separateResponseTimeoutMs?: number;
  readonly expiryGraceMs: number;
  readonly expirySweepMs: number;
  readonly formats?: FormatPreferences;
  /** What devices were found to lack (default: in memory, this instance only). */
  readonly capabilities?: CapabilityStore;
  readonly coapEvents?: CoapEventSink;
  /** Accepts Send data durably before the device gets 2.04 (see SendHandler). */
  readonly sendSink?: (registration: Registration, entries: SendEntries) => Promise<void>;
  /** Refuses Register with a retriable error while a dependency is unavailable (→ 5.03). */
  readonly admitRegistration?: () => void;
  /** The security mode an endpoint is provisioned with: one provisioned for DTLS may not register in plaintext. */
  readonly provisionedMode?: (endpoint: string) => Promise<SecurityMode | undefined>;
  /** Max-Age of 5.03 answers, seconds (default 30). */
  readonly retryAfterS?: number;
  readonly onError?: (err: unknown, context: string) => void;
}

export class NotRegisteredError extends BridgeError {
  constructor(endpoint: string) {
    super('LWM2M_NOT_REGISTERED', `endpoint "${endpoint}" is not registered`);
  }
}

export class LwM2mServer {
  readonly events = new ServerEvents();
  readonly endpoint: CoapEndpoint;
  readonly blockwiseServer: BlockwiseServer;
  private readonly downlink: DownlinkContext;
  private readonly notifications: NotificationHandler;
  private readonly lifecycle: ObservationLifecycle;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly capabilities: CapabilityStore;

  constructor(private readonly opts: LwM2mServerOptions) {
    const onError = opts.onError ?? (() => undefined);
    this.capabilities = opts.capabilities ?? new MemoryCapabilityStore();
    const capabilities = this.capabilities;
    this.events.on((e) => {
      if (e.type === 'registered') capabilities.registered(e.registration);
    });
    this.endpoint = new CoapEndpoint({
      transport: opts.transport,
      params: opts.transmission,
      maxPeers: opts.maxPeers,
      ...(opts.separateResponseTimeoutMs !== undefined
        ? { separateResponseTimeoutMs: opts.separateResponseTimeoutMs }
        : {}),
      ...(opts.coapEvents ? { events: opts.coapEvents } : {}),
      ...opts.coapLimits,
    });
    const blockwise = new BlockwiseClient(this.endpoint, { szx: opts.blockSzx, maxBodyBytes: opts.maxBodyBytes });
    this.notifications = new NotificationHandler({
      observations: opts.observations,
      registrations: opts.registrations,
      events: this.events,
      codecs: opts.codecs,
      model: opts.model,
      blockwise,
      onError: (err, obs) => onError(err, `notification ${obs.endpoint} ${obs.paths.join(',')}`),
    });
    this.lifecycle = new ObservationLifecycle(opts.observations, this.events, (t) => this.notifications.forget(t));
    this.downlink = {
      blockwise,
      codecs: opts.codecs,
      model: opts.model,
      formats: new FormatPolicy(opts.formats),
      observations: opts.observations,
      forgetObservation: (t) => this.notifications.forget(t),
      seedObservation: (t, seq) => this.notifications.seed(t, seq),
      defaultTimeoutMs: opts.requestTimeoutMs,
      capabilities: this.capabilities,
      onFormatFallback: (fallback) => this.events.emit({ type: 'format-fallback', ...fallback }),
      onError,
    };
    const registration = new RegistrationHandler({
      store: opts.registrations,
      events: this.events,
      observations: this.lifecycle,
      ...(opts.admitRegistration ? { admit: opts.admitRegistration } : {}),
      ...(opts.provisionedMode ? { provisionedMode: opts.provisionedMode } : {}),
    });
    const send = new SendHandler({
      store: opts.registrations,
      codecs: opts.codecs,
      model: opts.model,
      events: this.events,
      ...(opts.sendSink ? { sink: opts.sendSink } : {}),
    });
    const router = createRouter({
      registration,
      send,
      events: this.events,
      onError: (err, req) => onError(err, `request from ${req.peer.address}:${req.peer.port}`),
      retryAfterS: opts.retryAfterS ?? 30,
    });
    this.blockwiseServer = new BlockwiseServer(router, {
      maxBodyBytes: opts.maxBodyBytes,
      maxConcurrent: opts.maxReassemblies,
      maxTotalBytes: opts.maxReassemblyBytes,
      preferredSzx: opts.blockSzx,
      lifetimeMs: exchangeLifetimeMs(opts.transmission),
      ...(opts.maxReassemblyBytesPerSource !== undefined ? { maxSourceBytes: opts.maxReassemblyBytesPerSource } : {}),
      ...(opts.coapLimits?.limits !== undefined ? { limits: opts.coapLimits.limits } : {}),
    });
    const handle = this.blockwiseServer.handle;
    this.endpoint.setRequestHandler(opts.limitRequests !== undefined ? opts.limitRequests(handle) : handle);
    this.endpoint.setNotificationListener(this.notifications.handle);
  }

  start(): void {
    this.expiryTimer = setInterval(() => {
      this.expire(Date.now()).catch((err: unknown) => this.opts.onError?.(err, 'expiry sweep'));
    }, this.opts.expirySweepMs);
    this.expiryTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    await this.endpoint.close();
  }

  /** Removes registrations whose lifetime (plus grace) has passed, announcing each once. */
  async expire(now: number): Promise<Registration[]> {
    const expired = await this.opts.registrations.takeExpired(now, this.opts.expiryGraceMs);
    for (const registration of expired) {
      await this.lifecycle.endAll(registration, 'expired');
      this.events.emit({ type: 'expired', registration });
    }
    return expired;
  }

  async registration(endpoint: string): Promise<Registration> {
    const reg = await this.opts.registrations.getByEndpoint(endpoint);
    if (reg === undefined) throw new NotRegisteredError(endpoint);
    return reg;
  }

  /** What the device of this registration was found to lack (server/capabilities/). */
  capabilitiesOf(reg: Registration): Promise<DeviceCapabilities> {
    return this.capabilities.get(reg);
  }

  learnCapability(reg: Registration, fact: CapabilityFact): Promise<void> {
    return this.capabilities.learn(reg, fact);
  }

  async read(ep: string, path: LwM2mPath, o?: RequestOptions): Promise<OperationResult> {
    return read(this.downlink, await this.registration(ep), path, o);
  }
  async discover(ep: string, path: LwM2mPath, o?: RequestOptions): Promise<OperationResult> {
    return discover(this.downlink, await this.registration(ep), path, o);
  }
  async readComposite(ep: string, paths: readonly LwM2mPath[], o?: RequestOptions): Promise<OperationResult> {
    return readComposite(this.downlink, await this.registration(ep), paths, o);
  }
  async write(
    ep: string,
    path: LwM2mPath,
    node: LwM2mNode,
    mode: WriteMode,
    o?: RequestOptions,
  ): Promise<OperationResult> {
    return write(this.downlink, await this.registration(ep), path, node, mode, o);
  }
  async writeAttributes(
    ep: string,
    path: LwM2mPath,
    attributes: NotificationAttributes,
    o?: RequestOptions,
  ): Promise<OperationResult> {
    return writeAttributes(this.downlink, await this.registration(ep), path, attributes, o);
  }
  async writeComposite(ep: string, nodes: NodesByPath, o?: RequestOptions): Promise<OperationResult> {
    return writeComposite(this.downlink, await this.registration(ep), nodes, o);
  }
  async execute(ep: string, path: LwM2mPath, args?: string, o?: RequestOptions): Promise<OperationResult> {
    return execute(this.downlink, await this.registration(ep), path, args, o);
  }
  async create(
    ep: string,
    objectId: number,
    instances: readonly ObjectInstance[],
    o?: RequestOptions,
  ): Promise<OperationResult> {
    return create(this.downlink, await this.registration(ep), objectId, instances, o);
  }
  async delete(ep: string, path: LwM2mPath, o?: RequestOptions): Promise<OperationResult> {
    return deleteInstance(this.downlink, await this.registration(ep), path, o);
  }
  async observe(ep: string, path: LwM2mPath, o?: RequestOptions): Promise<OperationResult> {
    return observe(this.downlink, await this.registration(ep), path, o);
  }
  async observeComposite(ep: string, paths: readonly LwM2mPath[], o?: RequestOptions): Promise<OperationResult> {
    return observeComposite(this.downlink, await this.registration(ep), paths, o);
  }

  /** Cancels the observations of an endpoint that match a path (single) or path set (composite). */
  async cancelObservations(
    ep: string,
    match: { kind: 'single' | 'composite'; paths?: readonly string[] },
    mode: 'active' | 'passive',
    o?: RequestOptions,
  ): Promise<number> {
    const reg = await this.registration(ep);
    const all = await this.opts.observations.listByRegistration(reg.id);
    const wanted = all.filter(
      (obs) => obs.kind === match.kind && (match.paths === undefined || sameSet(obs.paths, match.paths)),
    );
    for (const obs of wanted) await cancelObservation(this.downlink, this.events, reg, obs, mode, o);
    return wanted.length;
  }

  async listObservations(ep: string): Promise<Awaited<ReturnType<ObservationStore['listByRegistration']>>> {
    const reg = await this.registration(ep);
    return this.opts.observations.listByRegistration(reg.id);
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
