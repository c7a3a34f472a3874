/**
 * Which device a request comes from, for the per-endpoint request rate (src/coap/request-limiter.ts),
 * found without a store lookup or payload decoding (DESIGN invariant 5):
 * - over DTLS, the endpoint bound to the authenticated identity (LwM2M-Core 1.2 §7.1): `ep:<name>`;
 * - Register (`POST /rd?ep=…`, LwM2M-Core 1.2 §6.2.1): the `ep` query parameter, `ep:<name>`
 *   (without one the handler answers 4.00, unlimited here);
 * - Update and De-register (`/rd/{id}`, §6.2.2, §6.2.3): the registration id, `rd:<id>`: it stands
 *   for one registration of one endpoint;
 * - Send (`/dp`, §6.4.2) and anything else: the source address and port, `peer:<addr:port>`,
 *   which is how a plain-CoAP Send finds its registration.
 */
import type { InboundRequest } from '../coap/endpoint';
import { Opt } from '../coap/message';
import { peerKey } from '../transport/types';

export function endpointKeyOf(req: InboundRequest): string | undefined {
  if (req.identity !== undefined) return `ep:${req.identity.endpoint}`;
  let first: string | undefined;
  let second: string | undefined;
  let ep: string | undefined;
  for (const o of req.message.options) {
    if (o.number === Opt.URI_PATH) {
      if (first === undefined) first = o.value.toString('utf8');
      else if (second === undefined) second = o.value.toString('utf8');
    } else if (o.number === Opt.URI_QUERY && ep === undefined && o.value.length > 3 && o.value[0] === 0x65) {
      const q = o.value.toString('utf8');
      if (q.startsWith('ep=')) ep = q.slice(3);
    }
  }
  if (first === 'rd') {
    if (second !== undefined) return `rd:${second}`;
    return ep !== undefined ? `ep:${ep}` : undefined;
  }
  return `peer:${peerKey(req.peer)}`;
}
