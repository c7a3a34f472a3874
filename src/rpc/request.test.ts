import { isRejection, parseRpcRequest } from './request';

const parse = (v: unknown) => parseRpcRequest(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseRpcRequest', () => {
  it('takes a ThingsBoard-style request and resolves a content format name', () => {
    const r = parse({
      id: 'r1',
      endpoint: 'ep',
      method: 'Read',
      params: { id: '/3_1.2/0/9', contentFormat: 'senml_json' },
      timeoutMs: 5000,
    });
    expect(isRejection(r)).toBe(false);
    expect(r).toMatchObject({ id: 'r1', endpoint: 'ep', method: 'Read', format: 110, timeoutMs: 5000 });
  });

  it.each([
    [null, /^record: empty value/],
    ['{"id":', /^record: not JSON/],
    [{ endpoint: 'ep', method: 'Read', params: { id: '/3' } }, /^id: Required/],
    [{ id: 'x', endpoint: 'ep', method: 'Reboot' }, /^method: "Reboot" is not one of Read, /],
    [{ id: 'x', endpoint: 'ep', method: 'Read', params: {} }, /^params\.id: Read needs "id"/],
    [
      { id: 'x', endpoint: 'ep', method: 'ReadComposite', params: { id: '/3' } },
      /^params\.ids: ReadComposite needs "ids"/,
    ],
    [
      { id: 'x', endpoint: 'ep', method: 'WriteReplace', params: { id: '/3/0/15' } },
      /^params\.value: WriteReplace needs a value/,
    ],
    [
      { id: 'x', endpoint: 'ep', method: 'WriteComposite', params: { nodes: {} } },
      /^params\.nodes: WriteComposite needs/,
    ],
    [
      { id: 'x', endpoint: 'ep', method: 'WriteAttributes', params: { id: '/3/0/9', attributes: { pmax: 'x' } } },
      /^params\.attributes\.pmax: Expected number/,
    ],
    [
      { id: 'x', endpoint: 'ep', method: 'WriteAttributes', params: { id: '/3/0/9', attributes: { ver: '1.1' } } },
      /^params\.attributes: unknown field\(s\) ver/,
    ],
    [{ id: 'x', endpoint: 'ep', method: 'Create', params: { id: '/3303' } }, /^params\.value: Create needs/],
    [
      { id: 'x', endpoint: 'ep', method: 'Execute', params: { id: '/3/0/4', value: { a: 1 } } },
      /^params\.value: Execute arguments are text/,
    ],
    [
      { id: 'x', endpoint: 'ep', method: 'Read', params: { id: '/3/0/9', contentFormat: 'XML' } },
      /^params\.contentFormat: unknown format "XML"/,
    ],
    [
      { id: 'x', endpoint: 'ep', method: 'Read', params: { id: '/3/0/9' }, timeoutMs: -1 },
      /^timeoutMs: Number must be greater than 0/,
    ],
    [[1, 2], /^record: Expected object, received array/],
  ])('rejects %j naming the field', (input, message) => {
    const r = parseRpcRequest(input === null ? null : typeof input === 'string' ? input : JSON.stringify(input));
    expect(isRejection(r)).toBe(true);
    if (isRejection(r)) expect(r.error).toMatch(message);
  });

  it('keeps the id, endpoint and method of a rejected record so its answer reaches the caller', () => {
    const r = parse({ id: 'r9', endpoint: 'dev-9', method: 'Read', params: {} });
    expect(r).toMatchObject({ id: 'r9', endpoint: 'dev-9', method: 'Read' });
  });
});
