#!/usr/bin/env bash
# Installs what the test suite needs, only when it is missing; safe to run again and again.
#   - Debian packages: libcoap3-bin (coap-client-notls...), redis-server and redis-tools, a JDK and
#     Maven, and for the load-balancer tests iproute2, nftables and conntrack
#   - the Leshan launcher jar (test/interop/leshan-client), rebuilt when its sources are newer
#   - the Apache Kafka broker jars (test/infra/kafka/pom.xml) and their runtime classpath file
#     (.cache/kafka-classpath.txt), resolved again when missing, older than the pom, or naming a
#     jar that is no longer in ~/.m2
# Download caches that later runs reuse: ~/.m2 (Maven), $XDG_CACHE_HOME or ~/.cache/lwm2m-bridge/apt-archives (.deb).
# Exits non-zero, naming what is missing, when something cannot be installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

LESHAN_DIR=test/interop/leshan-client
LESHAN_JAR=$LESHAN_DIR/target/leshan-test-client.jar
BUILD_LOG=.cache/leshan-client-build.log
KAFKA_POM=test/infra/kafka/pom.xml
KAFKA_CLASSPATH=.cache/kafka-classpath.txt
KAFKA_LOG=.cache/kafka-resolve.log
APT_ARCHIVES=${XDG_CACHE_HOME:-$HOME/.cache}/lwm2m-bridge/apt-archives

log() { echo "ensure-test-deps: $*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# command -> Debian package providing it
COMMANDS=(coap-client-notls coap-client-openssl coap-client-gnutls openssl redis-server redis-cli java javac mvn ip nft conntrack setpriv)
declare -A PACKAGE_FOR=(
  [coap-client-notls]=libcoap3-bin
  [coap-client-openssl]=libcoap3-bin
  [coap-client-gnutls]=libcoap3-bin
  [openssl]=openssl
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  [ip]=iproute2
  [nft]=nftables
  [conntrack]=conntrack
  [setpriv]=util-linux
  [java]=openjdk-17-jdk-headless
  [javac]=openjdk-17-jdk-headless
  [mvn]=maven
)

apt_install() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      die "missing Debian package(s) $*: not root and no password-less sudo; install them by hand (apt-get install $*)"
    fi
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing Debian package(s) $* and apt-get is not available to install them"
  mkdir -p "$APT_ARCHIVES/partial"
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y
    -o "Dir::Cache::Archives=$APT_ARCHIVES" -o Binary::apt::APT::Keep-Downloaded-Packages=true)
  log "installing Debian package(s): $*"
  "${apt[@]}" update >&2 || die "apt-get update failed; could not install: $*"
  "${apt[@]}" install --no-install-recommends "$@" >&2 || die "apt-get install failed for: $*"
}

install_missing_commands() {
  local missing=() packages=() cmd
  for cmd in "${COMMANDS[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  for cmd in "${missing[@]}"; do
    case " ${packages[*]-} " in *" ${PACKAGE_FOR[$cmd]} "*) ;; *) packages+=("${PACKAGE_FOR[$cmd]}") ;; esac
  done
  log "missing command(s): ${missing[*]}"
  apt_install "${packages[@]}"
  for cmd in "${missing[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' is still missing after installing ${PACKAGE_FOR[$cmd]}"
  done
}

leshan_jar_is_fresh() {
  [ -f "$LESHAN_JAR" ] && [ -z "$(find "$LESHAN_DIR/pom.xml" "$LESHAN_DIR/src" -newer "$LESHAN_JAR" -print -quit)" ]
}

build_leshan_launcher() {
  if leshan_jar_is_fresh; then
    log "Leshan launcher is up to date ($LESHAN_JAR)"
    return 0
  fi
  log "building the Leshan launcher with Maven (dependencies cached in ~/.m2)..."
  mkdir -p "$(dirname "$BUILD_LOG")"
  if ! mvn -B -ntp -q -f "$LESHAN_DIR/pom.xml" package >"$BUILD_LOG" 2>&1; then
    cat "$BUILD_LOG" >&2
    die "Maven build of the Leshan launcher failed (log above and in $BUILD_LOG); missing: $LESHAN_JAR"
  fi
  [ -f "$LESHAN_JAR" ] || die "Maven finished but $LESHAN_JAR is missing"
  log "built $LESHAN_JAR"
}

kafka_classpath_is_fresh() {
  [ -s "$KAFKA_CLASSPATH" ] && [ "$KAFKA_CLASSPATH" -nt "$KAFKA_POM" ] || return 1
  local jar jars
  IFS=: read -r -a jars <"$KAFKA_CLASSPATH"
  for jar in "${jars[@]}"; do
    [ -f "$jar" ] || return 1
  done
}

resolve_kafka() {
  if kafka_classpath_is_fresh; then
    log "Kafka classpath is up to date ($KAFKA_CLASSPATH)"
    return 0
  fi
  log "resolving the Apache Kafka broker jars with Maven (cached in ~/.m2)..."
  mkdir -p "$(dirname "$KAFKA_CLASSPATH")"
  rm -f "$KAFKA_CLASSPATH"
  if ! mvn -B -ntp -q -Dstyle.color=never -f "$KAFKA_POM" validate \
    "-Dkafka.classpath.file=$PWD/$KAFKA_CLASSPATH" >"$KAFKA_LOG" 2>&1; then
    cat "$KAFKA_LOG" >&2
    die "Maven could not resolve the Kafka broker from $KAFKA_POM (log above and in $KAFKA_LOG); missing: $KAFKA_CLASSPATH"
  fi
  [ -s "$KAFKA_CLASSPATH" ] || die "Maven finished but the Kafka classpath file $KAFKA_CLASSPATH is missing or empty"
  # Maven may leave an unchanged file's time alone; the freshness check compares it with the pom.
  touch "$KAFKA_CLASSPATH"
  log "resolved the Kafka broker ($KAFKA_CLASSPATH)"
}

install_missing_commands
build_leshan_launcher
resolve_kafka
# helm, kube-apiserver, etcd and the Prometheus Operator CRDs for the deploy tests, built from Go modules.
bash scripts/ensure-k8s-tools.sh || die "could not build the Kubernetes test tools (log above); missing: helm, kube-apiserver, etcd or the monitoring CRDs"
