/**
 * Where the external test tools live and how to tell, loudly, that one is missing.
 * A test that needs a real peer must fail when the peer cannot run, never pass silently.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, join, resolve } from 'node:path';

/** The checkout, whether this runs from test/support (jest) or from dist/test/support (compiled, for benchmarks). */
const UP_TWO = resolve(__dirname, '..', '..');
export const REPO_ROOT = basename(UP_TWO) === 'dist' ? dirname(UP_TWO) : UP_TWO;
const INSTALL_HINT = 'run `bash scripts/ensure-test-deps.sh` (npm test runs it) to install it';

export class MissingTestDependencyError extends Error {
  readonly code = 'MISSING_TEST_DEPENDENCY';

  constructor(
    readonly dependency: string,
    detail: string,
  ) {
    super(`missing test dependency ${dependency}: ${detail}; ${INSTALL_HINT}`);
    this.name = 'MissingTestDependencyError';
  }
}

/** The Leshan launcher built from test/interop/leshan-client; LESHAN_CLIENT_JAR overrides it. */
export function leshanClientJarPath(): string {
  return (
    process.env.LESHAN_CLIENT_JAR ??
    join(REPO_ROOT, 'test', 'interop', 'leshan-client', 'target', 'leshan-test-client.jar')
  );
}

/** The Leshan 1.x launcher (LwM2M 1.0) built from test/interop/leshan1-client; LESHAN1_CLIENT_JAR overrides it. */
export function leshan1ClientJarPath(): string {
  return (
    process.env.LESHAN1_CLIENT_JAR ??
    join(REPO_ROOT, 'test', 'interop', 'leshan1-client', 'target', 'leshan1-test-client.jar')
  );
}

/** `java` from JAVA_HOME when set, else from PATH. */
export function javaCommand(): string {
  const home = process.env.JAVA_HOME;
  return home !== undefined && home !== '' ? join(home, 'bin', 'java') : 'java';
}

/** The absolute path of an executable found on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function requireOnPath(name: string, debianPackage: string): string {
  const path = findOnPath(name);
  if (path === undefined) {
    throw new MissingTestDependencyError(name, `not found on PATH (Debian package ${debianPackage})`);
  }
  return path;
}

export function requireLeshanClientJar(jar = leshanClientJarPath()): string {
  if (!existsSync(jar)) {
    throw new MissingTestDependencyError(
      'Leshan launcher jar',
      `${jar} does not exist (built by Maven from test/interop/leshan-client)`,
    );
  }
  return jar;
}

export function requireLeshan1ClientJar(jar = leshan1ClientJarPath()): string {
  if (!existsSync(jar)) {
    throw new MissingTestDependencyError(
      'Leshan 1.x launcher jar (LwM2M 1.0 client)',
      `${jar} does not exist (built by Maven from test/interop/leshan1-client)`,
    );
  }
  return jar;
}

function checkJava(): void {
  const java = javaCommand();
  const probe = spawnSync(java, ['-version'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error !== undefined || probe.status !== 0) {
    const why = probe.error !== undefined ? probe.error.message : `exit code ${String(probe.status)}: ${probe.stderr}`;
    throw new MissingTestDependencyError('java', `\`${java} -version\` failed (${why.trim()}); Java 17+ is needed`);
  }
}

/** Every problem with the external tools the integration tests use, empty when all are present. */
export function findMissingTestDependencies(): MissingTestDependencyError[] {
  const checks: Array<() => unknown> = [
    checkJava,
    () => requireLeshanClientJar(),
    () => requireLeshan1ClientJar(),
    () => requireOnPath('coap-client-notls', 'libcoap3-bin'),
    () => requireOnPath('coap-client-openssl', 'libcoap3-bin'),
    () => requireOnPath('coap-client-gnutls', 'libcoap3-bin'),
    () => requireOnPath('openssl', 'openssl'),
  ];
  return problemsOf(checks);
}

/** Runs every check and collects what is missing; any other error is thrown. */
export function problemsOf(checks: ReadonlyArray<() => unknown>): MissingTestDependencyError[] {
  const problems: MissingTestDependencyError[] = [];
  for (const check of checks) {
    try {
      check();
    } catch (error) {
      if (!(error instanceof MissingTestDependencyError)) throw error;
      problems.push(error);
    }
  }
  return problems;
}
