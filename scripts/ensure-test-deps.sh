#!/usr/bin/env bash
# Installs what the test suite needs, only when it is missing; safe to run again and again.
#   - Debian packages: libcoap3-bin (coap-client-notls...), redis-server and redis-tools, a JDK and
#     Maven, and for the load-balancer tests iproute2, nftables and conntrack
#   - the Leshan launcher jars, rebuilt when their sources are newer: test/interop/leshan-client
#     (Leshan 2.x, LwM2M 1.1) and test/interop/leshan1-client (Leshan 1.x, LwM2M 1.0)
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
LESHAN1_DIR=test/interop/leshan1-client
LESHAN1_JAR=$LESHAN1_DIR/target/leshan1-test-client.jar
BUILD1_LOG=.cache/leshan1-client-build.log
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

# jar_is_fresh DIR JAR: the jar exists and nothing in DIR's pom.xml or src/ is newer.
leshan_jar_is_fresh() {
  [ -f "$2" ] && [ -z "$(find "$1/pom.xml" "$1/src" -newer "$2" -print -quit)" ]
}

# build_leshan_launcher DIR JAR LOG NAME
build_leshan_launcher() {
  local dir=$1 jar=$2 build_log=$3 name=$4
  if leshan_jar_is_fresh "$dir" "$jar"; then
    log "$name is up to date ($jar)"
    return 0
  fi
  log "building the $name with Maven (dependencies cached in ~/.m2)..."
  mkdir -p "$(dirname "$build_log")"
  if ! mvn -B -ntp -q -f "$dir/pom.xml" package >"$build_log" 2>&1; then
    cat "$build_log" >&2
    die "Maven build of the $name failed (log above and in $build_log); missing: $jar"
  fi
  [ -f "$jar" ] || die "Maven finished but $jar is missing"
  log "built $jar"
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
build_leshan_launcher "$LESHAN_DIR" "$LESHAN_JAR" "$BUILD_LOG" "Leshan launcher"
build_leshan_launcher "$LESHAN1_DIR" "$LESHAN1_JAR" "$BUILD1_LOG" "Leshan 1.x launcher (LwM2M 1.0)"
resolve_kafka
# helm, kube-apiserver, etcd and the Prometheus Operator CRDs for the deploy tests, built from Go modules.
bash scripts/ensure-k8s-tools.sh || die "could not build the Kubernetes test tools (log above); missing: helm, kube-apiserver, etcd or the monitoring CRDs"
