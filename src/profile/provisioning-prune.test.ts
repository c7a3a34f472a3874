/** ProfileAssigner.pruneExpired: expired assignments are released, fresh ones kept. */
import { MemoryProvisioningStore, ProfileAssigner } from './provisioning';

describe('ProfileAssigner.pruneExpired', () => {
  it('drops expired assignments oldest first, at most maxScan, and never a fresh one', async () => {
    let now = 1000;
    const a = new ProfileAssigner({
      store: new MemoryProvisioningStore(),
      rules: [{ pattern: '*', profile: 'p' }],
      cacheTtlMs: 100,
      now: () => now,
    });
    for (const ep of ['a', 'b', 'c']) await a.resolve(ep);
    now += 60;
    await a.resolve('d');
    now += 50; // a, b, c expired; d fresh
    expect(a.pruneExpired(2)).toBe(2);
    expect(a.pruneExpired(10)).toBe(1);
    expect(a.pruneExpired(10)).toBe(0);
    expect(a.cached('d')?.value).toEqual({ profile: 'p', via: 'rule' });
    expect(a.cached('a')).toBeUndefined();
    expect(await a.resolve('a')).toEqual({ profile: 'p', via: 'rule' });
  });
});
