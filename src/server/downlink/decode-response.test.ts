/**
 * decodeContent for single paths: a SenML payload without times is decoded once (its one time
 * group) and must give exactly what the node decoder gives; timed payloads keep their series.
 */
import { encode as encodeCbor } from 'cbor-x';
import { createDefaultCodecs } from '../../lwm2m/codec/default-codecs';
import { testModel } from '../../../test/support/codec-model';
import { ContentFormat, type CodecContext } from '../../lwm2m/codec/types';
import { parsePath } from '../../lwm2m/path';
import { decodeContent } from './decode-response';

const codecs = createDefaultCodecs();
const ctx: CodecContext = { model: testModel };
const json = (s: string): Buffer => Buffer.from(s, 'utf8');
const cbor = (records: Array<Map<number, string | number>>): Buffer => Buffer.from(encodeCbor(records));

const cases: Array<[string, number, Buffer, string]> = [
  ['SenML JSON resource', ContentFormat.SENML_JSON, json('[{"bn":"/3303/0/","n":"5700","v":21.5}]'), '/3303/0/5700'],
  [
    'SenML JSON instance',
    ContentFormat.SENML_JSON,
    json('[{"bn":"/3303/0/","n":"5700","v":21.5},{"n":"5701","vs":"Cel"}]'),
    '/3303/0',
  ],
  [
    'SenML JSON multi-instance resource',
    ContentFormat.SENML_JSON,
    json('[{"bn":"/3/0/7/","n":"0","v":3800},{"n":"1","v":5000}]'),
    '/3/0/7',
  ],
  [
    'SenML CBOR resource',
    ContentFormat.SENML_CBOR,
    cbor([
      new Map<number, string | number>([
        [-2, '/3303/0/'],
        [0, '5700'],
        [2, 21.5],
      ]),
    ]),
    '/3303/0/5700',
  ],
];

describe('decodeContent (single path)', () => {
  it.each(cases)('%s without times equals the node decoder', (_name, format, payload, path) => {
    const decoded = decodeContent(codecs, format, payload, 'single', [parsePath(path)], ctx);
    expect(decoded.timestamped).toBeUndefined();
    expect(decoded.nodes.get(path)).toEqual(codecs.decodeNode(format, payload, parsePath(path), ctx));
  });

  it('keeps the time series of a timed SenML payload', () => {
    const payload = json('[{"bn":"/3303/0/","n":"5700","v":20,"t":1700000000},{"n":"5700","v":21,"t":1700000010}]');
    const decoded = decodeContent(
      codecs,
      ContentFormat.SENML_JSON,
      payload,
      'single',
      [parsePath('/3303/0/5700')],
      ctx,
    );
    expect(decoded.timestamped?.map((t) => t.timestamp)).toEqual([1700000000000, 1700000010000]);
  });

  it('rejects what the node decoder rejects', () => {
    const bad = json('[{"bn":"/3303/0/","n":"5700","vs":"not a number"}]');
    expect(() => codecs.decodeNode(ContentFormat.SENML_JSON, bad, parsePath('/3303/0/5700'), ctx)).toThrow();
    expect(() =>
      decodeContent(codecs, ContentFormat.SENML_JSON, bad, 'single', [parsePath('/3303/0/5700')], ctx),
    ).toThrow();
  });
});
