#!/usr/bin/env bash
# The project's test command (`npm test`): installs missing test tools, type-checks, runs both
# jest projects (unit, lint, integration, deploy, then cluster), and ends with exactly one line: "N passed, N failed".
# Exits non-zero when anything failed, including a type error or a jest run that crashed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RESULTS=.cache/jest-results.json
CLUSTER_RESULTS=.cache/jest-cluster-results.json
mkdir -p .cache
rm -f "$RESULTS" "$CLUSTER_RESULTS"

if ! bash scripts/ensure-test-deps.sh; then
  echo "test-all: the test tools could not be installed (see above); no test was run" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

typecheck_failed=0
# Build (which type-checks): the start-up test runs the compiled entry point.
if ! npm run --silent build; then
  typecheck_failed=1
  echo "test-all: type check failed (counted as one failure)" >&2
fi

# A watchdog: a run that hangs fails visibly instead of stalling CI. --forceExit: once the results
# are written, a handle left open by a test (jest still prints its "did not exit" warning) must not
# keep the process, and so CI, waiting.
timeout --kill-after=30 1500 npx jest --ci --forceExit --json --outputFile="$RESULTS" --selectProjects unit lint integration deploy
jest_status=$?
# The cluster scenarios (test/cluster) alone afterwards: 3 bridges, Redis, Kafka, a device fleet
# and Leshan on 2 cores leave no room for other suites running beside them.
timeout --kill-after=30 1500 npx jest --ci --forceExit --json --outputFile="$CLUSTER_RESULTS" --selectProjects cluster
cluster_status=$?
[ "$jest_status" -eq 0 ] && jest_status=$cluster_status

# Suites that failed to run (syntax error, throwing import...) count as failures too.
node -e '
const fs = require("node:fs");
const [typecheckFailed, jestStatus, ...files] = process.argv.slice(1);
let passed = 0;
let failed = Number(typecheckFailed);
for (const file of files) {
  try {
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    passed += r.numPassedTests;
    failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
  } catch (error) {
    console.error(`test-all: jest wrote no readable results to ${file} (exit status ${jestStatus}): ${error.message}`);
    failed += 1;
  }
}
if (jestStatus !== "0" && failed === 0) {
  console.error(`test-all: jest exited with status ${jestStatus} although no test failed (counted as one failure)`);
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
' "$typecheck_failed" "$jest_status" "$RESULTS" "$CLUSTER_RESULTS"
