/** REDIS_URL / REDIS_CLUSTER / REDIS_PASSWORD / REDIS_TLS read into connection settings (redis-url.ts). */
import { ConfigError } from '../common/errors';
import { redisSettings } from './redis-url';

const base = { REDIS_URL: '', REDIS_CLUSTER: false, REDIS_PASSWORD: '', REDIS_TLS: false };

describe('redisSettings', () => {
  it('reads one server with credentials, database and TLS from rediss://', () => {
    expect(redisSettings({ ...base, REDIS_URL: 'rediss://app:p%40ss@redis.example:6380/2' })).toEqual({
      kind: 'single',
      node: { host: 'redis.example', port: 6380 },
      db: 2,
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
    expect(redisSettings({ ...base, REDIS_URL: 'redis://[::1]' })).toEqual({
      kind: 'single',
      node: { host: '::1', port: 6379 },
      db: 0,
      tls: false,
    });
  });

  it('lets REDIS_PASSWORD override the URL and REDIS_TLS turn TLS on', () => {
    expect(
      redisSettings({ ...base, REDIS_URL: 'redis://:old@r:1', REDIS_PASSWORD: 'new', REDIS_TLS: true }),
    ).toMatchObject({ password: 'new', tls: true });
    expect(redisSettings({ ...base, REDIS_URL: '/run/redis.sock', REDIS_PASSWORD: 'pw' })).toEqual({
      kind: 'raw',
      url: '/run/redis.sock',
      password: 'pw',
      tls: false,
    });
  });

  it('reads a cluster seed list', () => {
    const s = redisSettings({
      ...base,
      REDIS_CLUSTER: true,
      REDIS_URL: 'rediss://u:pw@n1:7000, rediss://u:pw@n2:7001,rediss://u:pw@n3',
      REDIS_PASSWORD: 'secret',
    });
    expect(s).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7001 },
        { host: 'n3', port: 6379 },
      ],
      username: 'u',
      password: 'secret',
      tls: true,
    });
  });

  it.each([
    [true, 'redis://a:1,,redis://b:2', /REDIS_URL: an empty entry/],
    [true, 'redis://a:1,b:2', /REDIS_URL: seed node 2 of 2 has scheme "b:", expected redis:\/\/ or rediss:\/\//],
    [true, 'redis://a:1,http://b:2', /REDIS_URL: seed node 2 of 2 has scheme "http:"/],
    [true, 'redis://a:1,rediss://b:2', /REDIS_URL: seed node 2 differs from the first/],
    [true, 'redis://a:1/3', /REDIS_URL: seed node 1 selects database 3/],
    [true, 'not a url at all', /REDIS_URL: seed node 1 of 1 is not a URL/],
    [false, 'redis://a:1,redis://b:2', /REDIS_URL: .*set REDIS_CLUSTER=true/],
    [false, 'redis://:secret@host/x', /REDIS_URL: .* has database "x"/],
  ])('refuses (cluster %p) %p naming REDIS_URL', (cluster, url, message) => {
    const read = (): unknown => redisSettings({ ...base, REDIS_CLUSTER: cluster, REDIS_URL: url });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(message);
  });

  it('never repeats a password in its messages', () => {
    expect(() => redisSettings({ ...base, REDIS_URL: 'redis://:topsecret@host/x' })).toThrow(/^(?!.*topsecret)/);
  });
});
