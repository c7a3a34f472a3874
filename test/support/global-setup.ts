/**
 * Jest globalSetup of the "integration" project: refuses to start when an external tool the
 * tests rely on is missing, naming each one, rather than letting tests fail one by one.
 */
import { findMissingTestDependencies } from './test-deps';

export default function globalSetup(): void {
  const problems = findMissingTestDependencies();
  if (problems.length > 0) {
    throw new Error(
      `integration tests cannot run, ${problems.length} external tool(s) missing:\n` +
        problems.map((p) => `  - ${p.message}`).join('\n'),
    );
  }
}
