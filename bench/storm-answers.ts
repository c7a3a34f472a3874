/**
 * The simulated device's answers to the bridge's setup requests in the registration storm
 * (bench/storm.ts), piggybacked in the ACK (RFC 7252 §5.2.1), Message ID and token echoed:
 *   Read              GET /3/0/0, GET /3303/0/5700       → 2.05 + SenML (LwM2M-Core 1.2 §6.3.1)
 *   Read-Composite    FETCH /                            → 2.05 + SenML of both resources (§6.3.8)
 *   Write-Attributes  PUT /{path}?pmin=..&pmax=..        → 2.04 Changed (§6.3.4)
 *   Observe           GET /{path} Observe=0              → 2.05 + Observe + SenML (§6.4.1, RFC 7641 §3.2)
 *   Cancel            GET /{path} Observe=1              → 2.05
 * anything else 4.05; an unknown path 4.04. SenML JSON (110) unless Accept asks for SenML CBOR (112).
 */
import { encode as encodeCbor } from 'cbor-x';
import { encode } from '../src/coap/codec';
import { Code, EMPTY_BUFFER, MessageType, Method, Opt, type CoapMessage, type CoapOption } from '../src/coap/message';
import { getOptions, observeValue, uintOption } from '../src/coap/options';

export type SetupRequestKind = 'read' | 'read-composite' | 'write-attributes' | 'observe' | 'cancel' | 'other';

const SENML_JSON = 110;
const SENML_CBOR = 112;

/** The resources the storm profile reads and observes, with their values. */
const VALUES: ReadonlyMap<string, { readonly v?: number; readonly vs?: string }> = new Map([
  ['/3/0/0', { vs: 'bench-storm' }],
  ['/3303/0/5700', { v: 21.5 }],
]);

export function kindOf(msg: CoapMessage): SetupRequestKind {
  const obs = observeValue(msg);
  if (msg.code === Method.GET) return obs === 0 ? 'observe' : obs === 1 ? 'cancel' : 'read';
  if (msg.code === Method.FETCH) return obs === 0 ? 'other' : 'read-composite';
  if (msg.code === Method.PUT && getOptions(msg, Opt.URI_QUERY).length > 0) return 'write-attributes';
  return 'other';
}

/** The piggybacked answer to `msg`; `seq` is the Observe number of an observe answer. */
export function answerTo(msg: CoapMessage, kind: SetupRequestKind, seq: number): Buffer {
  const path = `/${getOptions(msg, Opt.URI_PATH)
    .map((b) => b.toString('utf8'))
    .join('/')}`;
  const accept = getOptions(msg, Opt.ACCEPT)[0];
  const format = accept !== undefined && accept.length === 1 && accept[0] === SENML_CBOR ? SENML_CBOR : SENML_JSON;
  switch (kind) {
    case 'read':
    case 'observe': {
      const value = VALUES.get(path);
      if (value === undefined) return reply(msg, Code.NOT_FOUND);
      const options = kind === 'observe' ? [uintOption(Opt.OBSERVE, seq)] : [];
      return reply(
        msg,
        Code.CONTENT,
        [...options, uintOption(Opt.CONTENT_FORMAT, format)],
        senml(format, [[path, value]]),
      );
    }
    case 'read-composite':
      return reply(msg, Code.CONTENT, [uintOption(Opt.CONTENT_FORMAT, format)], senml(format, [...VALUES]));
    case 'write-attributes':
      return reply(msg, Code.CHANGED);
    case 'cancel':
      return reply(msg, Code.CONTENT);
    case 'other':
      return reply(msg, Code.METHOD_NOT_ALLOWED);
  }
}

function reply(req: CoapMessage, code: number, options: CoapOption[] = [], payload: Buffer = EMPTY_BUFFER): Buffer {
  const type = req.type === MessageType.CON ? MessageType.ACK : MessageType.NON;
  return encode({ type, code, messageId: req.messageId, token: req.token, options, payload });
}

/** RFC 8428 records, one per resource, full names. */
function senml(
  format: number,
  entries: ReadonlyArray<readonly [string, { readonly v?: number; readonly vs?: string }]>,
): Buffer {
  if (format === SENML_JSON) return Buffer.from(JSON.stringify(entries.map(([n, value]) => ({ n, ...value }))), 'utf8');
  // RFC 8428 §6: n = 0, v = 2, vs = 3.
  const records = entries.map(([n, value]) => {
    const m = new Map<number, string | number>([[0, n]]);
    if (value.v !== undefined) m.set(2, value.v);
    if (value.vs !== undefined) m.set(3, value.vs);
    return m;
  });
  return Buffer.from(encodeCbor(records));
}
