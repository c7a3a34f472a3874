/**
 * Routes device requests by their first path segment (LwM2M-Transport 1.2 §6):
 *   /rd → Registration Interface, /dp → Send (1.1+), /bs → Bootstrap (not served by this edge yet).
 * Handler exceptions become 5.00 (and a `rejected` event), never a crash.
 */
import type { RequestHandler, ResponseSpec, InboundRequest } from '../coap/endpoint';
import { Code, Method } from '../coap/message';
import { uriPath } from '../coap/options';
import type { ServerEvents } from './events';
import type { RegistrationHandler } from './registration/registration-handler';
import type { SendHandler } from './uplink/send-handler';

export function createRouter(deps: { registration: RegistrationHandler; send: SendHandler; events: ServerEvents; onError: (err: unknown, req: InboundRequest) => void }): RequestHandler {
  return (req, respond) => {
    const path = uriPath(req.message);
    let result: Promise<ResponseSpec>;
    if (path[0] === 'rd') {
      result = deps.registration.handle(req, path);
    } else if (path[0] === 'dp' && path.length === 1) {
      result = req.message.code === Method.POST ? deps.send.handle(req) : Promise.resolve({ code: Code.METHOD_NOT_ALLOWED });
    } else {
      respond({ code: Code.NOT_FOUND, payload: Buffer.from(`no resource /${path.join('/')}`) });
      return;
    }
    result.then(
      (res) => {
        if (res.code >> 5 === 4) {
          deps.events.emit({ type: 'rejected', peer: req.peer, operation: `/${path.join('/')}`, code: res.code, reason: res.payload?.toString('utf8') ?? '' });
        }
        respond(res);
      },
      (err: unknown) => {
        deps.onError(err, req);
        respond({ code: Code.INTERNAL_SERVER_ERROR });
      },
    );
  };
}
