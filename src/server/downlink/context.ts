/**
 * What every downlink operation needs: the block-wise client on the listening socket, codecs,
 * object models, the format policy and the observation store.
 */
import type { BlockwiseClient } from '../../coap/blockwise-client';
import type { CoapMessage, CoapOption } from '../../coap/message';
import { pathOptions } from '../../coap/options';
import type { ContentCodecs } from '../../lwm2m/codec/registry';
import type { CodecContext } from '../../lwm2m/codec/types';
import type { ObjectModelLookup } from '../../lwm2m/model/types';
import { pathIds, type LwM2mPath } from '../../lwm2m/path';
import type { CapabilityStore } from '../capabilities/capability-store';
import type { ObservationStore } from '../observation/observation-store';
import { objectVersions, type Registration } from '../registration/registration';
import type { FormatNegotiationSink } from './format-sink';
import type { FormatPolicy } from './formats';

export interface DownlinkContext {
  readonly blockwise: BlockwiseClient;
  readonly codecs: ContentCodecs;
  readonly model: ObjectModelLookup;
  readonly formats: FormatPolicy;
  readonly observations: ObservationStore;
  /** Drops in-process state of an observation (sequence numbers). */
  readonly forgetObservation: (token: string) => void;
  /** The Observe value of the response that established an observation (RFC 7641 §3.4 ordering). */
  readonly seedObservation: (token: string, seq: number) => void;
  readonly defaultTimeoutMs: number;
  /** What devices were found to lack: refused content formats are not asked for again. */
  readonly capabilities: CapabilityStore;
  /** A refused content format and the one tried next (format-negotiation.ts). */
  readonly onFormatFallback: FormatNegotiationSink;
  /** Failures that must not fail the operation (the capability store unreachable). */
  readonly onError: (err: unknown, context: string) => void;
}

export interface RequestOptions {
  /** Content format to use instead of the policy's choice. */
  readonly format?: number;
  readonly timeoutMs?: number;
  /** After an empty ACK, how long the separate response may take (default: COAP_SEPARATE_RESPONSE_TIMEOUT_MS). */
  readonly separateTimeoutMs?: number;
  /** Observe: who asked for the observation, kept with it ("rpc": an RPC request, not the profile). */
  readonly origin?: 'rpc';
}

export function codecContext(ctx: DownlinkContext, reg: Registration): CodecContext {
  return { model: ctx.model, versions: objectVersions(reg) };
}

/** Uri-Path options for a path under the device's root (alternate) path. */
export function targetOptions(reg: Registration, path: LwM2mPath, query: readonly string[] = []): CoapOption[] {
  const root = reg.rootPath === '/' ? [] : reg.rootPath.split('/').filter((s) => s !== '');
  return pathOptions([...root, ...pathIds(path).map(String)], query);
}

export function send(
  ctx: DownlinkContext,
  reg: Registration,
  code: number,
  options: readonly CoapOption[],
  payload: Buffer | undefined,
  opts: RequestOptions & { token?: Buffer },
): Promise<CoapMessage> {
  return ctx.blockwise.request(
    // A device registered over DTLS is only ever sent to through its DTLS connection.
    reg.security !== undefined
      ? { address: reg.address, port: reg.port, secure: true }
      : { address: reg.address, port: reg.port },
    {
      code,
      options,
      ...(payload !== undefined ? { payload } : {}),
      ...(opts.token !== undefined ? { token: opts.token } : {}),
      timeoutMs: opts.timeoutMs ?? ctx.defaultTimeoutMs,
      ...(opts.separateTimeoutMs !== undefined ? { separateTimeoutMs: opts.separateTimeoutMs } : {}),
    },
  );
}
