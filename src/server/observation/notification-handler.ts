/**
 * Incoming notifications (RFC 7641 §3.2-3.4, LwM2M-Core 1.2 §6.4.2): matched by token alone
 * through the observation store, ordered by the Observe sequence (stale ones are acknowledged
 * and dropped), completed with Block2 when needed (RFC 7959 §2.6), decoded by content format
 * and handed on as `notification` events. A non-2.xx notification, or a response without the
 * Observe option, ends the observation (RFC 7641 §3.2).
 */
import { Code, Method, Opt, type CoapMessage } from '../../coap/message';
import { contentFormat, getBlock, observeValue, pathOptions } from '../../coap/options';
import { isFresher } from '../../coap/observe';
import type { BlockwiseClient } from '../../coap/blockwise-client';
import type { Peer, PeerIdentity } from '../../transport/types';
import { parsePath } from '../../lwm2m/path';
import type { ContentCodecs } from '../../lwm2m/codec/registry';
import type { ObjectModelLookup } from '../../lwm2m/model/types';
import type { Observation, ObservationStore } from './observation-store';
import type { RegistrationStore } from '../registration/registration-store';
import type { ServerEvents } from '../events';
import { objectVersions, type Registration } from '../registration/registration';
import { decodeContent } from '../downlink/decode-response';

/** What this instance keeps per observation token: one entry per live observation, updated in place. */
interface TokenState {
  /** Last Observe sequence accepted, and when (RFC 7641 §3.4). */
  seq: number;
  at: number;
  /** The observation's paths, parsed once (an observation's paths never change). */
  paths: ReturnType<typeof parsePath>[] | undefined;
}

export class NotificationHandler {
  /** Per token: a bounded in-process cache, one entry per live observation; one lookup per notification. */
  private readonly tokens = new Map<string, TokenState>();

  constructor(
    private readonly deps: {
      readonly observations: ObservationStore;
      readonly registrations: RegistrationStore;
      readonly events: ServerEvents;
      readonly codecs: ContentCodecs;
      readonly model: ObjectModelLookup;
      readonly blockwise: BlockwiseClient;
      readonly onError: (err: unknown, obs: Observation) => void;
    },
  ) {}

  forget(token: string): void {
    this.tokens.delete(token);
  }

  /**
   * The Observe sequence number of the response that established the observation: it counts as
   * the first notification (RFC 7641 §3.4), so a later notification older than it is stale.
   */
  seed(token: string, seq: number): void {
    const now = Date.now();
    const state = this.tokens.get(token);
    if (state === undefined) this.tokens.set(token, { seq, at: now, paths: undefined });
    else if (isFresher(state.seq, state.at, seq, now)) {
      state.seq = seq;
      state.at = now;
    }
  }

  /** A notification from a peer that may not act as the observed device: rejected (RST for a CON), reported. */
  private refuse(peer: Peer, reason: string): false {
    this.deps.events.emit({ type: 'rejected', peer, operation: 'notification', code: Code.FORBIDDEN, reason });
    return false;
  }

  readonly handle = async (peer: Peer, msg: CoapMessage, identity?: PeerIdentity): Promise<boolean> => {
    const token = msg.token.toString('hex');
    const obs = await this.deps.observations.getByToken(token);
    if (obs === undefined) return false;
    // Over DTLS, only the device the observation belongs to may notify for it (LwM2M-Core 1.2 §7.1).
    if (identity !== undefined && identity.endpoint !== obs.endpoint)
      return this.refuse(
        peer,
        `authenticated as ${identity.mode} "${identity.name}", bound to endpoint "${identity.endpoint}", not "${obs.endpoint}"`,
      );
    const reg = await this.deps.registrations.getById(obs.registrationId);
    if (reg === undefined) {
      await this.deps.observations.remove(token);
      this.forget(token);
      return false;
    }
    if (identity === undefined && reg.security !== undefined)
      return this.refuse(peer, `endpoint "${reg.endpoint}" registered over DTLS; this notification came in plaintext`);
    const seq = observeValue(msg);
    if (msg.code >> 5 !== 2 || seq === undefined) {
      await this.end(
        obs,
        msg.code >> 5 !== 2 ? 'error-response' : 'not-observable',
        `notification code ${msg.code >> 5}.${msg.code & 31}`,
      );
      return true;
    }
    const now = Date.now();
    let state = this.tokens.get(token);
    if (state === undefined) {
      this.tokens.set(token, (state = { seq, at: now, paths: undefined }));
    } else {
      if (!isFresher(state.seq, state.at, seq, now)) return true; // stale: ACK, drop (RFC 7641 §3.4)
      state.seq = seq;
      state.at = now;
    }
    this.process(peer, msg, obs, reg, seq, state).catch((err: unknown) => this.deps.onError(err, obs));
    return true;
  };

  private async process(
    peer: Peer,
    first: CoapMessage,
    obs: Observation,
    reg: Registration,
    seq: number,
    state: TokenState,
  ): Promise<void> {
    let msg = first;
    const b2 = getBlock(first, Opt.BLOCK2);
    if (b2?.more && obs.kind === 'single') {
      const segments = (obs.paths[0] ?? '/').split('/').filter((s) => s !== '');
      const root = reg.rootPath === '/' ? [] : reg.rootPath.split('/').filter((s) => s !== '');
      msg = await this.deps.blockwise.completeBlock2(
        peer,
        { code: Method.GET, options: pathOptions([...root, ...segments]) },
        first,
      );
    }
    if (msg.code !== Code.CONTENT && msg.code >> 5 !== 2) return;
    const ctx = { model: this.deps.model, versions: objectVersions(reg) };
    const format = contentFormat(msg);
    const paths = (state.paths ??= obs.paths.map((p) => parsePath(p)));
    const decoded = decodeContent(this.deps.codecs, format, msg.payload, obs.kind, paths, ctx);
    this.deps.events.emit({
      type: 'notification',
      registration: reg,
      observation: obs,
      nodes: decoded.nodes,
      ...(decoded.timestamped ? { timestamped: decoded.timestamped } : {}),
      sequence: seq,
    });
  }

  private async end(obs: Observation, reason: 'error-response' | 'not-observable', detail: string): Promise<void> {
    await this.deps.observations.remove(obs.token);
    this.forget(obs.token);
    this.deps.events.emit({ type: 'observation-ended', observation: obs, reason, detail });
  }
}
