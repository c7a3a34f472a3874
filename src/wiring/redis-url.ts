/**
 * REDIS_URL, REDIS_CLUSTER, REDIS_PASSWORD and REDIS_TLS read into connection settings, checked
 * at start-up: a URL that cannot be used stops the bridge with a ConfigError naming REDIS_URL.
 *
 * - One server: REDIS_URL is redis://[user:password@]host[:port][/db] or rediss://... (TLS);
 *   anything else (a Unix socket path) is handed to ioredis as it is.
 * - Redis Cluster (REDIS_CLUSTER=true): REDIS_URL is a comma-separated list of seed nodes, each
 *   redis:// or rediss://, all with the same credentials and the same scheme. The client learns
 *   the other nodes from CLUSTER SLOTS (Redis Cluster spec, "Redirection and resharding"); a
 *   cluster has only database 0 ("Implemented subset").
 * REDIS_PASSWORD overrides a password in the URL(s); REDIS_TLS=true (or rediss://) turns TLS on.
 */
import { ConfigError } from '../common/errors';

export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

export interface RedisAuth {
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
}

export type RedisSettings =
  | ({ readonly kind: 'single'; readonly node: RedisNodeAddress; readonly db: number } & RedisAuth)
  /** A Unix socket path or another form ioredis parses itself. */
  | ({ readonly kind: 'raw'; readonly url: string } & RedisAuth)
  | ({ readonly kind: 'cluster'; readonly nodes: readonly RedisNodeAddress[] } & RedisAuth);

export interface RedisUrlInput {
  readonly REDIS_URL: string;
  readonly REDIS_CLUSTER: boolean;
  readonly REDIS_PASSWORD: string;
  readonly REDIS_TLS: boolean;
}

interface ParsedUrl extends RedisNodeAddress {
  readonly username: string;
  readonly password: string;
  readonly tls: boolean;
  readonly db: number;
}

const DEFAULT_PORT = 6379;

/** Never echoes a password: the message names the URL by position and host only. */
function parseUrl(text: string, what: string): ParsedUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`REDIS_URL: ${what} is not a URL (expected redis://host:port or rediss://host:port)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`REDIS_URL: ${what} has scheme "${url.protocol}", expected redis:// or rediss://`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new ConfigError(`REDIS_URL: ${what} names no host`);
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  const dbText = url.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d+$/.test(dbText))
    throw new ConfigError(`REDIS_URL: ${what} has database "${dbText}", expected a number`);
  return {
    host,
    port,
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    tls: url.protocol === 'rediss:',
    db: dbText === '' ? 0 : Number(dbText),
  };
}

function auth(first: ParsedUrl | undefined, input: RedisUrlInput): RedisAuth {
  const username = first?.username ?? '';
  const password = input.REDIS_PASSWORD !== '' ? input.REDIS_PASSWORD : (first?.password ?? '');
  return {
    ...(username !== '' ? { username } : {}),
    ...(password !== '' ? { password } : {}),
    tls: input.REDIS_TLS || first?.tls === true,
  };
}

function clusterSettings(input: RedisUrlInput): RedisSettings {
  const texts = input.REDIS_URL.split(',').map((s) => s.trim());
  if (texts.some((t) => t === ''))
    throw new ConfigError('REDIS_URL: an empty entry in the comma-separated list of Redis Cluster seed nodes');
  const parsed = texts.map((t, i) => parseUrl(t, `seed node ${i + 1} of ${texts.length}`));
  const [first] = parsed;
  for (const [i, p] of parsed.entries()) {
    if (p.db !== 0)
      throw new ConfigError(
        `REDIS_URL: seed node ${i + 1} selects database ${p.db}; a Redis Cluster has database 0 only`,
      );
    if (
      first !== undefined &&
      (p.tls !== first.tls || p.username !== first.username || p.password !== first.password)
    ) {
      throw new ConfigError(
        `REDIS_URL: seed node ${i + 1} differs from the first in scheme or credentials; every seed node of a cluster must use the same`,
      );
    }
  }
  return { kind: 'cluster', nodes: parsed.map(({ host, port }) => ({ host, port })), ...auth(first, input) };
}

/** The settings REDIS_* describe; throws ConfigError naming REDIS_URL. REDIS_URL must be non-empty. */
export function redisSettings(input: RedisUrlInput): RedisSettings {
  if (input.REDIS_CLUSTER) return clusterSettings(input);
  const url = input.REDIS_URL.trim();
  if (url.includes(','))
    throw new ConfigError(
      'REDIS_URL: a comma-separated list is a list of Redis Cluster seed nodes; set REDIS_CLUSTER=true',
    );
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return { kind: 'raw', url, ...auth(undefined, input) };
  const p = parseUrl(url, `"${url.replace(/\/\/[^@/]*@/, '//***@')}"`);
  return { kind: 'single', node: { host: p.host, port: p.port }, db: p.db, ...auth(p, input) };
}
