import type { ConsumedRecord } from '../bus/types';
import { ProfileError } from './errors';
import {
  MemoryProvisioningStore,
  parseAssignmentRules,
  parseProvisioningRecord,
  ProfileAssigner,
} from './provisioning';
import { ProvisioningTopicSource } from './provisioning-topic-source';

const record = (key: string | null, value: unknown, offset = '0'): ConsumedRecord => ({
  topic: 'devices',
  key,
  value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  headers: {},
  offset,
  timestamp: 0,
});

describe('assignment rules', () => {
  it('takes the first matching rule in order', () => {
    const a = new ProfileAssigner({
      store: new MemoryProvisioningStore(),
      rules: [
        { pattern: 'sensor-special-*', profile: 'special' },
        { pattern: 'sensor-*', profile: 'sensor' },
        { pattern: '*', profile: 'fallback' },
      ],
    });
    expect(a.byRules('sensor-special-1')).toEqual({ profile: 'special', via: 'rule' });
    expect(a.byRules('sensor-2')).toEqual({ profile: 'sensor', via: 'rule' });
    expect(a.byRules('other')).toEqual({ profile: 'fallback', via: 'rule' });
  });

  it('validates rules from configuration, naming rule and field', () => {
    expect(parseAssignmentRules([{ pattern: 'a*', profile: 'p' }])).toHaveLength(1);
    expect(() =>
      parseAssignmentRules([
        { pattern: 'a*', profile: 'p' },
        { pattern: '/(/', profile: 'q' },
      ]),
    ).toThrow(/\[1\]\.pattern: invalid regular expression/);
    expect(() => parseAssignmentRules([{ pattern: 'a*' }])).toThrow(/\[0\]\.profile/);
  });
});

describe('ProfileAssigner', () => {
  it('prefers the provisioning record, then the rules, and caches until invalidated', async () => {
    const store = new MemoryProvisioningStore();
    const a = new ProfileAssigner({ store, rules: [{ pattern: '*', profile: 'by-rule' }] });
    expect(await a.resolve('dev-1')).toEqual({ profile: 'by-rule', via: 'rule' });
    await store.put({ endpoint: 'dev-1', profile: 'provisioned' });
    expect(await a.resolve('dev-1')).toEqual({ profile: 'by-rule', via: 'rule' }); // cached
    a.invalidate('dev-1');
    expect(await a.resolve('dev-1')).toEqual({ profile: 'provisioned', via: 'provisioning' });
    await store.put({ endpoint: 'dev-2', credentials: { mode: 'psk', identity: 'dev-2', key: '0a0b' } });
    expect(await a.resolve('dev-2')).toEqual({ profile: 'by-rule', via: 'rule' });
  });

  it('expires cached assignments after the TTL', async () => {
    let now = 0;
    const store = new MemoryProvisioningStore();
    const a = new ProfileAssigner({ store, cacheTtlMs: 1000, now: () => now });
    expect(await a.resolve('dev')).toBeUndefined();
    await store.put({ endpoint: 'dev', profile: 'p' });
    now = 1001;
    expect(a.cached('dev')).toBeUndefined();
    expect(await a.resolve('dev')).toEqual({ profile: 'p', via: 'provisioning' });
  });
});

describe('provisioning records', () => {
  it('never quotes credentials in errors', () => {
    try {
      parseProvisioningRecord({ endpoint: 42, credentials: { psk: 'SECRET-KEY' } }, 'test');
      throw new Error('expected a ProfileError');
    } catch (err) {
      expect(err).toBeInstanceOf(ProfileError);
      expect((err as Error).message).toMatch(/endpoint: expected string/);
      expect((err as Error).message).not.toMatch(/SECRET/);
    }
  });

  it('validate credentials, naming the field and never the value', () => {
    for (const credentials of [
      { mode: 'psk', identity: 'd', key: 'SECRET-not-hex' },
      { mode: 'psk', identity: '', key: '00' },
      { mode: 'rsa', key: 'SECRET' },
      { mode: 'psk', identity: 'd', key: '00', extra: 'SECRET' },
    ]) {
      try {
        parseProvisioningRecord({ endpoint: 'd', credentials }, 'test');
        throw new Error(`expected a ProfileError for ${credentials.mode}`);
      } catch (err) {
        expect(err).toBeInstanceOf(ProfileError);
        expect((err as ProfileError).issues.map((i) => i.field).join(' ')).toMatch(/credentials/);
        expect(JSON.stringify((err as ProfileError).issues) + (err as Error).message).not.toMatch(/SECRET/);
      }
    }
    expect(
      parseProvisioningRecord({ endpoint: 'd', credentials: { mode: 'psk', identity: 'id-d', key: '00ff' } }, 'test')
        .credentials,
    ).toEqual({ mode: 'psk', identity: 'id-d', key: '00ff' });
  });

  it('are found by PSK identity; a changed or removed identity is no longer found', async () => {
    const store = new MemoryProvisioningStore();
    await store.put({ endpoint: 'a', credentials: { mode: 'psk', identity: 'id-1', key: '01' } });
    expect((await store.findByCredential('psk', 'id-1'))?.endpoint).toBe('a');
    await store.put({ endpoint: 'a', credentials: { mode: 'psk', identity: 'id-2', key: '01' } });
    expect(await store.findByCredential('psk', 'id-1')).toBeUndefined();
    expect((await store.findByCredential('psk', 'id-2'))?.endpoint).toBe('a');
    await store.delete('a');
    expect(await store.findByCredential('psk', 'id-2')).toBeUndefined();
  });

  it('are stored from the topic, removed by tombstones, and announced', async () => {
    const store = new MemoryProvisioningStore();
    const assigner = new ProfileAssigner({ store });
    const errors: string[] = [];
    const changed: string[] = [];
    const src = new ProvisioningTopicSource({
      bus: { follow: async () => undefined },
      topic: 'devices',
      assigner,
      onError: (e) => errors.push(String(e)),
      onChange: (ep) => changed.push(ep),
    });
    await src.handle(
      record('dev-1', {
        endpoint: 'dev-1',
        profile: 'sensor',
        credentials: { mode: 'psk', identity: 'dev-1', key: '5ec2e7' },
      }),
    );
    expect(await store.get('dev-1')).toMatchObject({ profile: 'sensor' });
    expect(await assigner.resolve('dev-1')).toEqual({ profile: 'sensor', via: 'provisioning' });
    await src.handle(record('dev-1', null));
    expect(await store.get('dev-1')).toBeUndefined();
    expect(await assigner.resolve('dev-1')).toBeUndefined();
    await src.handle(record('dev-2', { endpoint: 'dev-3', profile: 'x' }));
    await src.handle(record('dev-4', '{"endpoint": "dev-4", "credentials": "SECRET'));
    expect(changed).toEqual(['dev-1', 'dev-1']);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/key "dev-2" but endpoint "dev-3"/);
    expect(errors.join()).not.toMatch(/SECRET/);
  });
});
