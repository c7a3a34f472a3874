import { ConfigError } from '../common/errors';
import { envSchema, loadConfig } from './env';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

describe('loadConfig', () => {
  it('gives the embedded defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c.COAP_PORT).toBe(5683);
    expect(c.COAP_HOST).toBe('0.0.0.0');
    expect(c.COAP_ACK_TIMEOUT_MS).toBe(2000);
    expect(c.DEBUG_ENDPOINTS).toBe(false);
  });

  it('parses numbers and booleans', () => {
    const c = loadConfig({ COAP_PORT: '0', COAP_BLOCK_SIZE: '256', DEBUG_ENDPOINTS: 'true' });
    expect(c.COAP_PORT).toBe(0);
    expect(c.COAP_BLOCK_SIZE).toBe(256);
    expect(c.DEBUG_ENDPOINTS).toBe(true);
  });

  it.each([
    ['COAP_PORT', '70000'],
    ['COAP_PORT', 'abc'],
    ['COAP_BLOCK_SIZE', '1000'],
    ['LOG_LEVEL', 'loud'],
    ['COAP_MAX_RETRANSMIT', '-1'],
    ['DEBUG_ENDPOINTS', 'yes'],
    ['UDP_SOCKET_THREAD', 'plain'],
    ['UDP_SOCKET_THREAD_INTERVAL_MS', '-1'],
  ])('rejects %s=%s with a message naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}="${value}"`));
  });

  it('lists every variable in .env.example', () => {
    const example = readFileSync(join(__dirname, '../../.env.example'), 'utf8');
    for (const key of Object.keys(envSchema.shape)) expect(example).toMatch(new RegExp(`^${key}=`, 'm'));
  });
});
