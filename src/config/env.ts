/**
 * Configuration from environment variables, validated with zod at start-up. A bad value stops
 * the process with a message naming the variable. Every variable is listed in .env.example.
 */
import { z } from 'zod';
import { ConfigError } from '../errors';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const envSchema = z.object({
  COAP_HOST: z.string().min(1).default('0.0.0.0'),
  COAP_PORT: int(0, 65535).default(5683),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port; -1 disables the HTTP server. */
  HTTP_PORT: int(-1, 65535).default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  COAP_ACK_TIMEOUT_MS: int(100, 60_000).default(2000),
  COAP_ACK_RANDOM_FACTOR: z.coerce.number().min(1).max(4).default(1.5),
  COAP_MAX_RETRANSMIT: int(0, 10).default(4),
  COAP_MAX_PEERS: int(1, 10_000_000).default(500_000),
  COAP_BLOCK_SIZE: z.coerce
    .number()
    .refine((n) => [16, 32, 64, 128, 256, 512, 1024].includes(n), 'must be a power of two from 16 to 1024')
    .default(1024),
  COAP_MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  COAP_MAX_REASSEMBLIES: int(1, 1_000_000).default(10_000),
  COAP_MAX_REASSEMBLY_BYTES: int(1024, 4 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  COAP_RECV_BUFFER_BYTES: int(0, 1 << 30).default(8 * 1024 * 1024),
  LWM2M_REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(60_000),
  LWM2M_EXPIRY_GRACE_MS: int(0, 3_600_000).default(15_000),
  LWM2M_EXPIRY_SWEEP_MS: int(100, 600_000).default(1000),
  /** Directory of extra OMA DDF XML object models; empty for the built-in ones only. */
  LWM2M_MODELS_DIR: z.string().default(''),
  /** Enables POST /debug/gc (benchmarks); never in production. */
  DEBUG_ENDPOINTS: bool.default('false'),
});

export type Config = z.infer<typeof envSchema>;

/** Parses the environment; throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.keys(envSchema.shape);
  const input: Record<string, string> = {};
  for (const k of known) {
    const v = env[k];
    if (v !== undefined && v !== '') input[k] = v;
  }
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}=${JSON.stringify(input[String(i.path[0])] ?? '')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}
