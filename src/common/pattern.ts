/**
 * Name patterns, as operators write them in assignment rules and API filters: a glob on the whole
 * name (`*` any run, `?` one character) or a regular expression written as `/regex/flags`
 * (searched as written; the stateful flags g and y are ignored).
 */
import { BridgeError } from './errors';
import { errorMessage } from './error-message';

const REGEX_LITERAL = /^\/(.+)\/([a-z]*)$/s;

/** A pattern that does not compile; the message quotes it. */
export class PatternError extends BridgeError {
  constructor(message: string) {
    super('PATTERN_INVALID', message);
  }
}

export function compilePattern(pattern: string): RegExp {
  const m = REGEX_LITERAL.exec(pattern);
  if (m) {
    try {
      return new RegExp(m[1] as string, (m[2] as string).replace('g', '').replace('y', ''));
    } catch (err) {
      throw new PatternError(`invalid regular expression ${pattern}: ${errorMessage(err)}`);
    }
  }
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}
