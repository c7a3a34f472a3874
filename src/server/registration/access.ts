/**
 * Who may act as which endpoint (LwM2M-Core 1.2 §7.1, Transport 1.2 §5.2.8): a client that
 * authenticated over DTLS acts only as the endpoint bound to its credential, and an endpoint
 * provisioned with credentials registers only over DTLS. Answers are 4.03 Forbidden with the
 * reason; the reason names identities and endpoints, never keys.
 */
import type { PeerIdentity } from '../../transport/types';
import type { Registration } from './registration';

export type SecurityMode = 'nosec' | 'psk' | 'rpk' | 'x509';

/** Why a Register for `endpoint` is refused, or undefined when it may go on. */
export function registerRefusal(
  endpoint: string,
  identity: PeerIdentity | undefined,
  provisioned: SecurityMode | undefined,
): string | undefined {
  if (identity !== undefined) {
    return identity.endpoint === endpoint
      ? undefined
      : `authenticated as ${identity.mode} "${identity.name}", which is bound to endpoint "${identity.endpoint}", not "${endpoint}"`;
  }
  if (provisioned !== undefined && provisioned !== 'nosec')
    return `endpoint "${endpoint}" is provisioned for ${provisioned} and must register over DTLS`;
  return undefined;
}

/** Why a request on an existing registration (Update, De-register, Send) is refused, if it is. */
export function actRefusal(reg: Registration, identity: PeerIdentity | undefined): string | undefined {
  if (identity !== undefined && identity.endpoint !== reg.endpoint) {
    return `authenticated as ${identity.mode} "${identity.name}", which is bound to endpoint "${identity.endpoint}", not "${reg.endpoint}"`;
  }
  if (identity === undefined && reg.security !== undefined)
    return `endpoint "${reg.endpoint}" registered over DTLS; this request came in plaintext`;
  return undefined;
}
