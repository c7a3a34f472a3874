/**
 * The router (LwM2M-Transport 1.2 §6): requests go by method and first path segment to the
 * registration and Send handlers (real ones on in-memory stores, spied on); what no handler
 * takes gets 4.04 or 4.05; 4.xx answers are announced; failures become 5.03 (retriable, with
 * Max-Age) or 5.00.
 */
import type { InboundRequest, ResponseSpec } from '../coap/endpoint';
import { Code, MessageType, Method, Opt } from '../coap/message';
import { pathOptions, uintOption } from '../coap/options';
import { BridgeError } from '../common/errors';
import { createDefaultCodecs } from '../lwm2m/codec/default-codecs';
import { createBuiltinRegistry } from '../lwm2m/model/builtin';
import { DEVICE_PEER } from '../../test/support/memory-datagram-pair';
import { coapMessage } from '../../test/support/scripted-peer';
import { ServerEvents, type ServerEvent } from './events';
import { ObservationLifecycle } from './observation/observation-lifecycle';
import { MemoryObservationStore } from './observation/observation-store';
import { MemoryRegistrationStore } from './registration/memory-registration-store';
import { RegistrationHandler } from './registration/registration-handler';
import { createRouter } from './router';
import { SendHandler } from './send/send-handler';

const RETRY_AFTER_S = 7;

let events: ServerEvent[];
let errors: Array<{ err: unknown; req: InboundRequest }>;
let registration: RegistrationHandler;
let send: SendHandler;
let route: (code: number, path: readonly string[], query?: readonly string[]) => Promise<ResponseSpec>;

beforeEach(() => {
  const serverEvents = new ServerEvents();
  events = [];
  serverEvents.on((e) => void events.push(e));
  errors = [];
  const store = new MemoryRegistrationStore();
  const lifecycle = new ObservationLifecycle(new MemoryObservationStore(), serverEvents, () => undefined);
  registration = new RegistrationHandler({ store, events: serverEvents, observations: lifecycle });
  send = new SendHandler({
    store,
    codecs: createDefaultCodecs(),
    model: createBuiltinRegistry(),
    events: serverEvents,
  });
  jest.spyOn(registration, 'handle');
  jest.spyOn(send, 'handle');
  const router = createRouter({
    registration,
    send,
    events: serverEvents,
    onError: (err, req) => void errors.push({ err, req }),
    retryAfterS: RETRY_AFTER_S,
  });
  route = (code, path, query = []) =>
    new Promise((resolve) =>
      router(
        {
          peer: DEVICE_PEER,
          message: coapMessage({
            type: MessageType.CON,
            code,
            messageId: 1,
            token: Buffer.from([9]),
            options: pathOptions(path, query),
          }),
        },
        resolve,
      ),
    );
});
afterEach(() => jest.restoreAllMocks());

/** Which handler a request reached, with what it was given. */
function reached(): { registration: unknown[][]; send: unknown[][] } {
  return { registration: jest.mocked(registration.handle).mock.calls, send: jest.mocked(send.handle).mock.calls };
}

describe('routing by path and method', () => {
  it.each([
    ['POST /rd?ep=dev', Method.POST, ['rd'], ['ep=dev'], Code.CREATED],
    ['POST /rd/abc', Method.POST, ['rd', 'abc'], [], Code.NOT_FOUND],
    ['DELETE /rd/abc', Method.DELETE, ['rd', 'abc'], [], Code.NOT_FOUND],
    ['GET /rd', Method.GET, ['rd'], [], Code.METHOD_NOT_ALLOWED],
    ['PUT /rd/abc/x', Method.PUT, ['rd', 'abc', 'x'], [], Code.NOT_FOUND],
  ])('%s goes to the registration handler with its path', async (_request, method, path, query, code) => {
    const res = await route(method, path, query);
    expect(res.code).toBe(code);
    expect(reached().registration).toHaveLength(1);
    expect(reached().registration[0]?.[1]).toEqual(path);
    expect(reached().send).toEqual([]);
  });

  it('POST /dp goes to the Send handler', async () => {
    const res = await route(Method.POST, ['dp']);
    expect(res.code).toBe(Code.UNSUPPORTED_CONTENT_FORMAT); // the Send handler's answer to a request without Content-Format
    expect(res.payload?.toString()).toContain('Send needs SenML JSON');
    expect(reached().send).toHaveLength(1);
    expect(reached().registration).toEqual([]);
  });

  it.each([
    ['GET', Method.GET],
    ['PUT', Method.PUT],
    ['DELETE', Method.DELETE],
  ])('%s /dp is 4.05, without calling the Send handler', async (_m, method) => {
    expect((await route(method, ['dp'])).code).toBe(Code.METHOD_NOT_ALLOWED);
    expect(reached()).toEqual({ registration: [], send: [] });
  });

  it.each([
    [[], 'no resource /'],
    [['dp', 'x'], 'no resource /dp/x'],
    [['bs'], 'no resource /bs'],
    [['3', '0', '9'], 'no resource /3/0/9'],
    [['RD'], 'no resource /RD'],
  ])('%j is 4.04 "%s", without calling any handler', async (path, diagnostic) => {
    const res = await route(Method.POST, path);
    expect(res.code).toBe(Code.NOT_FOUND);
    expect(res.payload?.toString()).toBe(diagnostic);
    expect(reached()).toEqual({ registration: [], send: [] });
  });
});

describe('answers and failures', () => {
  it('a 4.xx answer of a handler is announced as a rejected event; a 2.xx one is not', async () => {
    expect((await route(Method.POST, ['rd'], ['ep=dev'])).code).toBe(Code.CREATED);
    expect(events.filter((e) => e.type === 'rejected')).toEqual([]);
    await route(Method.POST, ['rd', 'nope']);
    expect(events.filter((e) => e.type === 'rejected')).toEqual([
      {
        type: 'rejected',
        peer: DEVICE_PEER,
        operation: '/rd/nope',
        code: Code.NOT_FOUND,
        reason: 'no registration nope',
      },
    ]);
  });

  it('a retriable failure is 5.03 with Max-Age and the reason, announced, and not reported as an error', async () => {
    jest
      .mocked(registration.handle)
      .mockRejectedValueOnce(
        new BridgeError('STORE_UNAVAILABLE', 'registration store unavailable', { retriable: true }),
      );
    const res = await route(Method.POST, ['rd'], ['ep=dev']);
    expect(res.code).toBe(Code.SERVICE_UNAVAILABLE);
    expect(res.options).toEqual([uintOption(Opt.MAX_AGE, RETRY_AFTER_S)]);
    expect(res.payload?.toString()).toBe('registration store unavailable');
    expect(events).toMatchObject([
      { type: 'rejected', operation: '/rd', code: Code.SERVICE_UNAVAILABLE, reason: 'registration store unavailable' },
    ]);
    expect(errors).toEqual([]);
  });

  it.each([
    ['an unexpected exception', new Error('bug')],
    ['a BridgeError that is not retriable', new BridgeError('STORE', 'corrupt record')],
  ])('%s is 5.00 without details, reported to onError with the request', async (_what, err) => {
    jest.mocked(send.handle).mockRejectedValueOnce(err);
    const res = await route(Method.POST, ['dp']);
    expect(res).toEqual({ code: Code.INTERNAL_SERVER_ERROR });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.err).toBe(err);
    expect(errors[0]?.req.peer).toEqual(DEVICE_PEER);
    expect(events).toEqual([]);
  });
});
