/**
 * PEM-valued configuration: a variable holds either PEM text or the path of a PEM file (a file
 * is how a Kubernetes Secret is usually mounted). An unreadable file stops the start with a
 * ConfigError naming the variable.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../common/errors';
import { errorMessage } from '../common/error-message';

export function pemFromConfig(name: string, value: string): string {
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${value} (${errorMessage(err)})`);
  }
}
