#!/usr/bin/env bash
# Shared settings and helpers for the local stack scripts. Sourced, not run.
set -euo pipefail

AFFINITY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Downloaded artifacts (Kafka jars, models) live outside git and survive `git clean`.
AFFINITY_CACHE="${AFFINITY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/affinity}"
# Runtime state of the local stack: data dirs, pid files, logs.
AFFINITY_STATE="${AFFINITY_STATE:-$AFFINITY_ROOT/.affinity}"

KAFKA_VERSION="${KAFKA_VERSION:-3.9.1}"
KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP="${KAFKA_HEAP:-1g}"
REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
REDIS_PORT="${REDIS_PORT:-6379}"

log() { printf '[affinity] %s\n' "$*" >&2; }
die() { printf '[affinity] error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    die "need root to run: $* (install it yourself or run as root)"
  fi
}

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* with your package manager"
  if [ "$APT_UPDATED" -eq 0 ]; then as_root apt-get update -qq >&2; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# True when something accepts TCP connections on host:port.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# True when the pid in $1 is alive and its command line contains $2 (guards against pid reuse).
pid_alive() {
  local pidfile="$1" marker="$2" pid
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$marker"
}

# Stops the process in pidfile (TERM, then KILL after $3 seconds) if it is ours.
stop_pid() {
  local pidfile="$1" marker="$2" grace="${3:-30}" pid i
  if ! pid_alive "$pidfile" "$marker"; then rm -f "$pidfile"; return 0; fi
  pid="$(cat "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    [ -d "/proc/$pid" ] || break
    sleep 0.1
  done
  if [ -d "/proc/$pid" ]; then log "pid $pid did not stop in ${grace}s; killing"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
