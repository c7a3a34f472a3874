/**
 * Send (LwM2M-Core 1.2 §6.4.3, Transport 1.2 §6.4): POST /dp with SenML JSON, SenML CBOR or
 * LwM2M CBOR. The sender is identified by the address its registration lives at, or over DTLS
 * by its authenticated identity.
 * 2.04 on success — only once the sink (the bus) has accepted the data, so that an acknowledged
 * Send is never lost; 4.15 for other formats; 4.00 for undecodable content; 4.04 when
 * unregistered. A sink that is unavailable throws a retriable error: the router answers 5.03.
 */
import { actRefusal } from '../registration/access';
import type { InboundRequest, ResponseSpec } from '../../coap/endpoint';
import { Code } from '../../coap/message';
import { contentFormat } from '../../coap/options';
import { BridgeError } from '../../common/errors';
import type { ContentCodecs } from '../../lwm2m/codec/registry';
import type { ObjectModelLookup } from '../../lwm2m/model/types';
import type { RegistrationStore } from '../registration/registration-store';
import type { ServerEvents } from '../events';
import { objectVersions, type Registration } from '../registration/registration';
import type { NodesByPath } from '../events';

export type SendEntries = ReadonlyArray<{ readonly timestamp?: number; readonly nodes: NodesByPath }>;

export class SendHandler {
  constructor(
    private readonly deps: {
      readonly store: RegistrationStore;
      readonly codecs: ContentCodecs;
      readonly model: ObjectModelLookup;
      readonly events: ServerEvents;
      /** Accepts the data durably before the device is acknowledged (at-least-once). */
      readonly sink?: (registration: Registration, entries: SendEntries) => Promise<void>;
    },
  ) {}

  async handle(req: InboundRequest): Promise<ResponseSpec> {
    const format = contentFormat(req.message);
    if (format === undefined || !this.deps.codecs.supportsComposite(format)) {
      return {
        code: Code.UNSUPPORTED_CONTENT_FORMAT,
        payload: Buffer.from(
          `Send needs SenML JSON (110), SenML CBOR (112) or LwM2M CBOR (11544), got ${format ?? 'none'}`,
        ),
      };
    }
    const reg = await this.registrationOf(req);
    if (reg === undefined)
      return {
        code: Code.NOT_FOUND,
        payload: Buffer.from(
          req.identity === undefined
            ? 'Send from an address with no registration'
            : `Send from "${req.identity.endpoint}", which has no registration`,
        ),
      };
    const refusal = actRefusal(reg, req.identity);
    if (refusal !== undefined) return { code: Code.FORBIDDEN, payload: Buffer.from(refusal) };
    let entries;
    try {
      entries = this.deps.codecs
        .compositeCodec(format)
        .decodeTimestampedNodes(req.message.payload, { model: this.deps.model, versions: objectVersions(reg) });
    } catch (err) {
      if (err instanceof BridgeError) return { code: Code.BAD_REQUEST, payload: Buffer.from(err.message) };
      throw err;
    }
    if (entries.length === 0) return { code: Code.BAD_REQUEST, payload: Buffer.from('Send carried no value') };
    if (this.deps.sink) await this.deps.sink(reg, entries);
    this.deps.events.emit({ type: 'send', registration: reg, entries });
    return { code: Code.CHANGED };
  }

  /**
   * In plaintext only the source address names the sender (LwM2M-Core 1.2 §6.4.3). Over DTLS the
   * authenticated identity does, wherever its records come from: with a connection ID the
   * connection survives a NAT rebinding (RFC 9146 §6), and the registration then moves to the
   * new address so that downlinks follow the device.
   */
  private async registrationOf(req: InboundRequest): Promise<Registration | undefined> {
    if (req.identity === undefined) return this.deps.store.getByAddress(req.peer.address, req.peer.port);
    const reg = await this.deps.store.getByEndpoint(req.identity.endpoint);
    if (reg === undefined || (reg.address === req.peer.address && reg.port === req.peer.port)) return reg;
    const moved = await this.deps.store.update(reg.id, { address: req.peer.address, port: req.peer.port }, Date.now());
    return moved?.after ?? reg;
  }
}
