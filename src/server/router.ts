/**
 * Routes device requests by their first path segment (LwM2M-Transport 1.2 §6):
 *   /rd → Registration Interface, /dp → Send (1.1+), /bs → Bootstrap (not served by this edge yet).
 * A retriable failure (store or bus unavailable) becomes 5.03 Service Unavailable with Max-Age,
 * telling the device when to retry (RFC 7252 §5.9.3.4); any other exception becomes 5.00.
 * Neither ever crashes the process.
 */
import type { RequestHandler, ResponseSpec, InboundRequest } from '../coap/endpoint';
import { BridgeError } from '../common/errors';
import { Code, Method, Opt } from '../coap/message';
import { uintOption, uriPath } from '../coap/options';
import type { ServerEvents } from './events';
import type { RegistrationHandler } from './registration/registration-handler';
import type { SendHandler } from './send/send-handler';

export interface RouterDeps {
  readonly registration: RegistrationHandler;
  readonly send: SendHandler;
  readonly events: ServerEvents;
  readonly onError: (err: unknown, req: InboundRequest) => void;
  /** Max-Age (s) of a 5.03 answer when a dependency is unavailable. */
  readonly retryAfterS: number;
}

export function createRouter(deps: RouterDeps): RequestHandler {
  return (req, respond) => {
    const path = uriPath(req.message);
    let result: Promise<ResponseSpec>;
    if (path[0] === 'rd') {
      result = deps.registration.handle(req, path);
    } else if (path[0] === 'dp' && path.length === 1) {
      result =
        req.message.code === Method.POST ? deps.send.handle(req) : Promise.resolve({ code: Code.METHOD_NOT_ALLOWED });
    } else {
      respond({ code: Code.NOT_FOUND, payload: Buffer.from(`no resource /${path.join('/')}`) });
      return;
    }
    result.then(
      (res) => {
        if (res.code >> 5 === 4) {
          deps.events.emit({
            type: 'rejected',
            peer: req.peer,
            operation: `/${path.join('/')}`,
            code: res.code,
            reason: res.payload?.toString('utf8') ?? '',
          });
        }
        respond(res);
      },
      (err: unknown) => {
        if (err instanceof BridgeError && err.retriable) {
          deps.events.emit({
            type: 'rejected',
            peer: req.peer,
            operation: `/${path.join('/')}`,
            code: Code.SERVICE_UNAVAILABLE,
            reason: err.message,
          });
          respond({
            code: Code.SERVICE_UNAVAILABLE,
            options: [uintOption(Opt.MAX_AGE, deps.retryAfterS)],
            payload: Buffer.from(err.message),
          });
          return;
        }
        deps.onError(err, req);
        respond({ code: Code.INTERNAL_SERVER_ERROR });
      },
    );
  };
}
