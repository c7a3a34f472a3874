import { ConfigError } from '../common/errors';
import {
  EXPIRY_SHARDS,
  RedisKeys,
  addressEntry,
  clusterHashTag,
  endpointOfAddressEntry,
  indexDeadline,
  shardOf,
} from './keys';

const keys = new RedisKeys('lwm2m');

function deviceKeys(endpoint: string): string[] {
  return [
    keys.registrationByEndpoint(endpoint),
    keys.observationsByEndpoint(endpoint),
    keys.rpcQueueByEndpoint(endpoint),
    keys.rpcEntriesByEndpoint(endpoint),
    keys.rpcFlightByEndpoint(endpoint),
    keys.rpcSeenByEndpoint(endpoint),
  ];
}

describe('Redis key layout', () => {
  it.each(['dev-1', 'urn:imei:123456789012345', 'a}b', 'x{y}z', '{}', 'ünï cødé', ''])(
    'puts every key of device %p under one hash tag',
    (endpoint) => {
      const tags = new Set(deviceKeys(endpoint).map(clusterHashTag));
      expect(tags.size).toBe(1);
      expect([...tags][0]).toMatch(/^ep:/);
    },
  );

  it('gives different devices different tags, and every index its own', () => {
    expect(clusterHashTag(keys.registrationByEndpoint('a'))).not.toBe(clusterHashTag(keys.registrationByEndpoint('b')));
    const index = [
      keys.endpointByRegistrationId('r1'),
      keys.endpointByAddress('192.0.2.1', 5683),
      keys.observationByToken('0a0b'),
      keys.expiryByShard(3),
      keys.rpcDueByShard(3),
      keys.instanceAlive('pod-1'),
    ];
    expect(index.map(clusterHashTag)).toEqual([
      'rid:r1',
      'addr:192.0.2.1|5683',
      'tok:0a0b',
      'expiry:3',
      'rpcdue:3',
      'inst:pod-1',
    ]);
  });

  it('spreads the expiry index over EXPIRY_SHARDS slots', () => {
    const tags = new Set(keys.expiryShards().map(clusterHashTag));
    expect(tags.size).toBe(EXPIRY_SHARDS);
    const used = new Set(Array.from({ length: 1000 }, (_, i) => shardOf(`dev-${i}`)));
    expect(used.size).toBe(EXPIRY_SHARDS);
    expect(keys.expiryOf('dev-7')).toBe(keys.expiryByShard(shardOf('dev-7')));
    expect(new Set(keys.rpcDueShards().map(clusterHashTag)).size).toBe(EXPIRY_SHARDS);
    expect(keys.rpcDueOf('dev-7')).toBe(keys.rpcDueByShard(shardOf('dev-7')));
  });

  it('keeps shardOf stable (it is part of the stored layout: FNV-1a mod 16)', () => {
    expect(['', 'dev-1', 'urn:imei:123456789012345', 'a}b'].map(shardOf)).toEqual([5, 6, 12, 3]);
  });

  it('refuses a prefix that would become the hash tag of every key', () => {
    expect(() => new RedisKeys('a{b}')).toThrow(ConfigError);
    expect(() => new RedisKeys('')).toThrow(ConfigError);
  });

  it('never lets two devices or two kinds of key collide', () => {
    const all = ['a', 'a}:reg', 'a}:obs', 'a}:rpc', 'b'].flatMap((e) => deviceKeys(e));
    expect(new Set(all).size).toBe(all.length);
  });

  it('tags address index entries with the write that made them', () => {
    const entry = addressEntry('dev|"1"', 1_700_000_000_000_123);
    expect(endpointOfAddressEntry(entry)).toBe('dev|"1"');
    expect(entry).toBe('["dev|\\"1\\"",1700000000000123]');
    expect(endpointOfAddressEntry('garbage')).toBeUndefined();
  });

  it('keeps indexes one lifetime past expiry plus grace', () => {
    expect(indexDeadline(1_000_000, 60, 15_000)).toBe(1_000_000 + 15_000 + 60_000);
  });
});
