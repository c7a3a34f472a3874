/**
 * SenML JSON (110) codec, LwM2M-Core 1.1 §7.4.5: composite operations (Read-/Observe-/Write-Composite)
 * and timestamped content (Send, historical notifications).
 */
import { instance, multi, resourceInstance, single, type LwM2mNode } from '../node';
import { parsePath } from '../path';
import { senmlJsonCodec as codec } from './senml-json';
import { codecError, deviceInstanceExample, testModel } from '../../../test/support/codec-model';
import type { CodecContext } from './types';

const ctx: CodecContext = { model: testModel };
const p = parsePath;
const text = (s: string): Buffer => Buffer.from(s, 'utf8');

// LwM2M-Core 1.1.1 §7.4.5: SenML JSON payload of Read /3/0.
const READ_3_0 =
  '[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"1","vs":"Lightweight M2M Client"},' +
  '{"n":"2","vs":"345000123"},{"n":"3","vs":"1.0"},{"n":"6/0","v":1},{"n":"6/1","v":5},{"n":"7/0","v":3800},' +
  '{"n":"7/1","v":5000},{"n":"8/0","v":125},{"n":"8/1","v":900},{"n":"9","v":100},{"n":"10","v":15},' +
  '{"n":"11/0","v":0},{"n":"13","v":1367491215},{"n":"14","vs":"+02:00"},{"n":"16","vs":"U"}]';

describe('SenML JSON codec: composite operations', () => {
  const paths = ['/3/0/0', '/3/0/9', '/1/0/1'].map(p);

  it('encodes and decodes a Read-Composite request (names only)', () => {
    const body = codec.encodePaths(paths).toString();
    expect(body).toBe('[{"n":"/3/0/0"},{"n":"/3/0/9"},{"n":"/1/0/1"}]');
    expect(codec.decodePaths(text(body))).toEqual(paths);
    expect(codec.decodePaths(text('[{"bn":"/3/0/","n":"0"},{"n":"9"},{"bn":"/","n":"1/0/"}]'))).toEqual([
      p('/3/0/0'),
      p('/3/0/9'),
      p('/1/0'),
    ]);
    expect(codec.decodePaths(text('[{"n":"/"}]'))).toEqual([{}]);
    expect(codecError(() => codec.decodePaths(text('[{"n":"/3/0/9","v":1}]'))).path).toBe('/3/0/9');
  });

  it('decodes a Read-Composite response for the requested paths, null where nothing came back', () => {
    const response =
      '[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"9","v":95},{"bn":"/1/0/","n":"1","v":86400}]';
    const nodes = codec.decodeNodes(text(response), [...paths, p('/3303/0')], ctx);
    expect(nodes).toEqual(
      new Map<string, LwM2mNode | null>([
        ['/3/0/0', single(0, 'STRING', 'Open Mobile Alliance')],
        ['/3/0/9', single(9, 'INTEGER', 95)],
        ['/1/0/1', single(1, 'INTEGER', 86400)],
        ['/3303/0', null],
      ]),
    );
    nodes.delete('/3303/0');
    expect(codec.encodeNodes(nodes, ctx).toString()).toBe(response);
  });

  it('builds nodes of the requested level and rejects records outside the requested paths', () => {
    const nodes = codec.decodeNodes(text(READ_3_0), [p('/3/0'), p('/3/0/6')], ctx);
    expect(nodes.get('/3/0')).toEqual(deviceInstanceExample());
    expect(nodes.get('/3/0/6')).toEqual(
      multi(6, 'INTEGER', [
        [0, 1],
        [1, 5],
      ]),
    );
    expect(codecError(() => codec.decodeNodes(text(READ_3_0), [p('/3/0/0')], ctx)).path).toBe('/3/0/1');
  });

  it('decodes a Write-Composite: a record without value removes the path (null)', () => {
    const body = '[{"n":"/3/0/14","vs":"+01:00"},{"n":"/1/0/1","v":6000},{"n":"/3/0/6/1"},{"n":"/3303/0"}]';
    const nodes = codec.decodeNodes(text(body), null, ctx);
    expect(nodes).toEqual(
      new Map<string, LwM2mNode | null>([
        ['/3/0/14', single(14, 'STRING', '+01:00')],
        ['/1/0/1', single(1, 'INTEGER', 6000)],
        ['/3/0/6/1', null],
        ['/3303/0', null],
      ]),
    );
    expect(codec.encodeNodes(nodes, ctx).toString()).toBe(
      '[{"bn":"/3/0/","n":"14","vs":"+01:00"},{"bn":"/1/0/","n":"1","v":6000},{"bn":"/3/0/","n":"6/1"},{"bn":"/3303/","n":"0"}]',
    );
  });

  it('keys resource-instance records by their own path', () => {
    const nodes = codec.decodeNodes(text('[{"bn":"/3/0/","n":"7/0","v":3800},{"n":"7/1","v":5000}]'), null, ctx);
    expect([...nodes.keys()]).toEqual(['/3/0/7/0', '/3/0/7/1']);
    expect(nodes.get('/3/0/7/1')).toEqual(resourceInstance(1, 'INTEGER', 5000));
  });

  it('encodes composite nodes of any level', () => {
    const nodes = new Map<string, LwM2mNode | null>([
      ['/3/0/6', multi(6, 'INTEGER', [[0, 1]])],
      ['/1/0', instance(0, [single(1, 'INTEGER', 60)])],
    ]);
    expect(codec.encodeNodes(nodes, ctx).toString()).toBe(
      '[{"bn":"/3/0/","n":"6/0","v":1},{"bn":"/1/0/","n":"1","v":60}]',
    );
    expect(codecError(() => codec.encodeNodes(new Map([['/3/x', null]]), ctx)).path).toBe('/3/x');
    expect(codecError(() => codec.encodeNodes(new Map([['/3/0/9', single(8, 'INTEGER', 1)]]), ctx)).path).toBe(
      '/3/0/9',
    );
  });
});

describe('SenML JSON codec: timestamps (Send, historical notifications)', () => {
  const NOW = 1_700_000_000_000;
  beforeEach(() => jest.spyOn(Date, 'now').mockReturnValue(NOW));
  afterEach(() => jest.restoreAllMocks());

  // A record without time is "now"; base time then applies to every following record (RFC 8428 §4.1).
  const SEND =
    '[{"n":"/3/0/13","v":1700000000},{"bn":"/3303/0/5700","bt":1700000100,"v":22.4},{"t":-60,"v":22.9},' +
    '{"bn":"/3/0/","n":"9","v":90},{"bn":"/3303/0/5700","bt":-10,"v":21.5}]';

  it('groups a Send payload by resolved time; times below 2^28 are relative to now', () => {
    const groups = codec.decodeTimestampedNodes(text(SEND), ctx);
    expect(groups).toEqual([
      { nodes: new Map([['/3/0/13', single(13, 'TIME', new Date(1700000000000))]]) },
      {
        timestamp: 1700000100000,
        nodes: new Map([
          ['/3303/0/5700', single(5700, 'FLOAT', 22.4)],
          ['/3/0/9', single(9, 'INTEGER', 90)],
        ]),
      },
      { timestamp: 1700000040000, nodes: new Map([['/3303/0/5700', single(5700, 'FLOAT', 22.9)]]) },
      { timestamp: NOW - 10000, nodes: new Map([['/3303/0/5700', single(5700, 'FLOAT', 21.5)]]) },
    ]);
  });

  it('keeps the latest value of each path when decoding without timestamps', () => {
    const nodes = codec.decodeNodes(text(SEND), null, ctx);
    expect(nodes.get('/3303/0/5700')).toEqual(single(5700, 'FLOAT', 22.4));
    const series = '[{"bn":"/3303/0/5700","bt":1700000100,"v":22.4},{"t":-60,"v":22.9},{"bt":-10,"v":21.5}]';
    expect(codec.decode(text(series), p('/3303/0/5700'), ctx)).toEqual(single(5700, 'FLOAT', 22.4));
  });

  it('decodes a large pack (the scanner is linear: a quadratic one would time out here)', () => {
    const records = Array.from(
      { length: 20000 },
      (_, i) => `{"bn":"/3303/${i % 100}/","bt":${1700000000 + i},"n":"5700","v":${i / 4}}`,
    );
    const groups = codec.decodeTimestampedNodes(text('[' + records.join(',') + ']'), ctx);
    expect(groups).toHaveLength(20000);
    expect(groups[19999]?.nodes.get('/3303/99/5700')).toEqual(single(5700, 'FLOAT', 19999 / 4));
  });

  it('decodes a historical notification of one path as timestamped nodes', () => {
    const body = '[{"bn":"/3303/0/5700","bt":1700000000,"v":20},{"t":10,"v":20.5},{"t":20,"v":21}]';
    expect(codec.decodeTimestamped(text(body), p('/3303/0/5700'), ctx)).toEqual([
      { timestamp: 1700000000000, node: single(5700, 'FLOAT', 20) },
      { timestamp: 1700000010000, node: single(5700, 'FLOAT', 20.5) },
      { timestamp: 1700000020000, node: single(5700, 'FLOAT', 21) },
    ]);
  });
});
