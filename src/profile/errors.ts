/**
 * Errors of the profile layer: a profile or provisioning record that cannot be used.
 * The message names every offending field ("observeAttr.attributeLwm2m./3/0/9.pmax: ...").
 */
import { BridgeError } from '../common/errors';

export interface ProfileIssue {
  /** Dotted path of the field in the document as given, e.g. "observeAttr.telemetry.2". */
  readonly field: string;
  readonly message: string;
}

export class ProfileError extends BridgeError {
  readonly issues: readonly ProfileIssue[];

  constructor(message: string, issues: readonly ProfileIssue[] = []) {
    super(
      'PROFILE_INVALID',
      issues.length === 0 ? message : `${message}:\n  ${issues.map((i) => `${i.field}: ${i.message}`).join('\n  ')}`,
    );
    this.issues = issues;
  }
}
