/**
 * Fixtures shared by the profile unit tests.
 */
import type { Registration } from '../../src/server/registration/registration';
import { compileProfile, type CompiledProfile } from '../../src/profile/compile';
import { parseProfile } from '../../src/profile/schema';

export function registration(over: Partial<Registration> = {}): Registration {
  return {
    id: 'reg-1',
    endpoint: 'dev-1',
    address: '127.0.0.1',
    port: 5683,
    lifetime: 300,
    lwm2mVersion: '1.1',
    binding: 'U',
    queueMode: false,
    rootPath: '/',
    objects: [
      { objectId: 1, instances: [0] },
      { objectId: 3, instances: [0] },
      { objectId: 3303, version: '1.1', instances: [0, 1] },
    ],
    objectLinks: '</1/0>,</3/0>,</3303>;ver=1.1,</3303/0>,</3303/1>',
    registeredAt: 0,
    lastUpdate: 0,
    expiresAt: 300_000,
    ...over,
  };
}

export function profile(doc: Record<string, unknown>): CompiledProfile {
  return compileProfile(parseProfile({ name: 'p', ...doc }, 'test'));
}
