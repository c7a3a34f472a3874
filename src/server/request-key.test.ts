/**
 * The per-endpoint rate key of a request, found without a store or the payload (DESIGN invariant 5).
 */
import type { InboundRequest } from '../coap/endpoint';
import { EMPTY_BUFFER, MessageType, Method } from '../coap/message';
import { pathOptions } from '../coap/options';
import { endpointKeyOf } from './request-key';

const peer = { address: '198.51.100.7', port: 56830 };
function req(path: string[], query: string[] = [], identity?: InboundRequest['identity']): InboundRequest {
  const message = {
    type: MessageType.CON,
    code: Method.POST,
    messageId: 1,
    token: EMPTY_BUFFER,
    options: pathOptions(path, query),
    payload: EMPTY_BUFFER,
  };
  return identity !== undefined ? { peer, message, identity } : { peer, message };
}

describe('endpointKeyOf', () => {
  it('keys a Register by its ep parameter (LwM2M-Core 1.2 §6.2.1), wherever it is in the query', () => {
    expect(endpointKeyOf(req(['rd'], ['lt=300', 'ep=dev-1', 'b=U']))).toBe('ep:dev-1');
  });

  it('leaves a Register without ep unlimited (the handler answers 4.00)', () => {
    expect(endpointKeyOf(req(['rd'], ['lt=300']))).toBeUndefined();
  });

  it('keys Update and De-register by the registration id (§6.2.2, §6.2.3)', () => {
    expect(endpointKeyOf(req(['rd', 'Xy12_ab']))).toBe('rd:Xy12_ab');
  });

  it('keys Send and other paths by the source address and port', () => {
    expect(endpointKeyOf(req(['dp']))).toBe('peer:198.51.100.7:56830');
    expect(endpointKeyOf(req(['bs'], ['ep=x']))).toBe('peer:198.51.100.7:56830');
  });

  it('over DTLS, keys every request by the endpoint bound to the identity (§7.1), whatever ep claims', () => {
    const identity = { mode: 'psk' as const, name: 'id-9', endpoint: 'dev-9' };
    expect(endpointKeyOf(req(['rd'], ['ep=someone-else'], identity))).toBe('ep:dev-9');
    expect(endpointKeyOf(req(['dp'], [], identity))).toBe('ep:dev-9');
  });
});
