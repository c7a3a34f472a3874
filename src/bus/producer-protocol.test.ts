import { packRecords, unpackRecords, type WireRecord } from './producer-protocol';

describe('packed batches', () => {
  it('round-trip values, tombstones, default and own headers, and text with any escaped character', () => {
    const records: WireRecord[] = [
      ['lwm2m.telemetry', 'dev-1', JSON.stringify({ ts: 1, values: { note: 'nul \u0000, tab \t, é, 😀' } }), undefined],
      ['lwm2m.devices', 'dev-2', null, undefined],
      ['lwm2m.events', 'dev 3|x', '{"type":"registered"}', { 'schema-version': '2', 'x-h': 'a\u0000b' }],
      ['t', '', '0', undefined],
    ];
    const packed = packRecords(records);
    expect(typeof packed).toBe('string');
    expect(unpackRecords(packed as string)).toEqual(records);
    expect(unpackRecords(packRecords([]) as string)).toEqual([]);
  });

  it('refuses to pack a key holding NUL (the batch then crosses as records)', () => {
    expect(packRecords([['t', 'a\u0000b', '1', undefined]])).toBeUndefined();
  });
});
