#!/usr/bin/env bash
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/infra/scripts/lib.sh"
export ONNXRUNTIME_NODE_INSTALL=skip
cd "$ROOT"

# True when a Kafka broker and a Redis server answer on the local stack's ports, whoever started them.
stack_answers() {
  port_open "$KAFKA_HOST" "$KAFKA_PORT" && port_open "$REDIS_HOST" "$REDIS_PORT" &&
    node "$ROOT/infra/scripts/probe.mjs" redis "$REDIS_HOST:$REDIS_PORT" >/dev/null 2>&1 &&
    node "$ROOT/infra/scripts/probe.mjs" kafka "$KAFKA_HOST:$KAFKA_PORT" >/dev/null 2>&1
}

# Brings the stack up and exports KAFKA_BROKERS / REDIS_URL; remembers whether we started it.
# A stack this checkout did not start but that answers on the ports (another checkout's) is used as it is.
stack_up() {
  STARTED_STACK=0
  if ! "$ROOT/infra/scripts/stack.sh" status >/dev/null 2>&1; then
    if stack_answers; then
      log "using the Kafka ($KAFKA_HOST:$KAFKA_PORT) and Redis ($REDIS_HOST:$REDIS_PORT) already running"
      export KAFKA_BROKERS="$KAFKA_HOST:$KAFKA_PORT" REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT"
      return 0
    fi
    STARTED_STACK=1
  fi
  local line
  while IFS= read -r line; do
    case "$line" in KAFKA_BROKERS=* | REDIS_URL=*) export "${line?}" ;; esac
  done < <("$ROOT/infra/scripts/stack.sh" up)
}

cmd_test() {
  "$ROOT/scripts/ensure-deps.sh" all
  if [ -z "${KAFKA_BROKERS:-}" ] || [ -z "${REDIS_URL:-}" ]; then
    stack_up
    # Stop only what this run started, however it ends.
    if [ "$STARTED_STACK" = 1 ]; then trap '"$ROOT/infra/scripts/stack.sh" down || true' EXIT; fi
  fi
  mkdir -p "$ROOT/.affinity"
  local results="$ROOT/.affinity/test-results.json" rc=0
  rm -f "$results"
  npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || rc=$?
  if [ -f "$results" ]; then
    node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const skipped = r.numPendingTests + r.numTodoTests;
      // A file that failed before running any test (import error, hook failure) counts as one failure.
      const broken = r.testResults.filter((f) => f.status === "failed" && f.assertionResults.every((a) => a.status !== "failed")).length;
      // A run that failed outside any test (global setup, e.g. the stack did not come up) still failed.
      const failed = r.numFailedTests + broken || (Number(process.argv[2]) !== 0 ? 1 : 0);
      if (skipped > 0) console.log(`(${skipped} skipped)`);
      console.log(`${r.numPassedTests} passed, ${failed} failed`);
    ' "$results" "$rc"
  else
    echo "0 passed, 1 failed"
  fi
  return $rc
}

cmd_lint() {
  "$ROOT/scripts/ensure-deps.sh" node
  npx tsc -p tsconfig.json
  npx eslint .
}

cmd_bench() {
  local area="${1:-}"
  [ -n "$area" ] || die "usage: ./dev bench <stream|embeddings|vector-index|graph|attributes>"
  shift
  "$ROOT/scripts/ensure-deps.sh" all
  if [ -x "$ROOT/bench/$area/run.sh" ]; then
    case "$area" in stream) stack_up ;; esac
    "$ROOT/bench/$area/run.sh" "$@"
  elif [ -f "$ROOT/bench/$area/run.ts" ]; then
    case "$area" in stream) stack_up ;; esac
    npx tsx "$ROOT/bench/$area/run.ts" "$@"
  else
    die "no benchmark bench/$area"
  fi
}

# The offline evaluation needs Redis only (the recommender's own state code runs against it).
cmd_eval() {
  "$ROOT/scripts/ensure-deps.sh" node redis models
  if [ -z "${REDIS_URL:-}" ]; then
    local started=0 line
    if ! "$ROOT/infra/scripts/redis.sh" status >/dev/null 2>&1; then started=1; fi
    line="$("$ROOT/infra/scripts/redis.sh" up | grep '^REDIS_URL=' | tail -n1)"
    export "${line?}"
    if [ "$started" = 1 ]; then trap '"$ROOT/infra/scripts/redis.sh" down || true' EXIT; fi
  fi
  npx tsx "$ROOT/packages/evaluation/src/cli.ts" "$@"
}

# Works on whatever KAFKA_BROKERS / REDIS_URL point at (the local stack by default); starts nothing.
cmd_dlq() {
  case "${1:-}" in
    replay) shift ;;
    *) die "usage: ./dev dlq replay <topic> [--code CODE] [--error-class NAME] [--group GROUP] [--dry-run] [--force] [--json]" ;;
  esac
  "$ROOT/scripts/ensure-deps.sh" node
  npx tsx "$ROOT/scripts/dlq-replay.ts" "$@"
}

cmd_demo() {
  "$ROOT/scripts/ensure-deps.sh" all
  stack_up
  # node itself, not npx tsx: a Ctrl-C reaches the demo once, and its supervisor stops the services in order.
  node --import tsx "$ROOT/scripts/demo.ts" "$@"
}

# Every service in the foreground (scripts/run.ts). Uses KAFKA_BROKERS / REDIS_URL when both are
# set, else the local stack (started if nothing answers on its ports; it keeps running afterwards).
cmd_run() {
  "$ROOT/scripts/ensure-deps.sh" node models
  if [ -z "${KAFKA_BROKERS:-}" ] || [ -z "${REDIS_URL:-}" ]; then
    if ! stack_answers; then "$ROOT/scripts/ensure-deps.sh" kafka redis; fi
    stack_up
    if [ "$STARTED_STACK" = 1 ]; then log "Kafka and Redis keep running after ./dev run stops (./dev down stops them)"; fi
  fi
  exec node --import tsx "$ROOT/scripts/run.ts" "$@"
}

cmd_logs() {
  "$ROOT/scripts/ensure-deps.sh" node
  exec node --import tsx "$ROOT/scripts/logs.ts" "$@"
}

case "${1:-help}" in
  test) shift; cmd_test "$@" ;;
  demo) shift; cmd_demo "$@" ;;
  run) shift; cmd_run "$@" ;;
  logs) shift; cmd_logs "$@" ;;
  up) "$ROOT/scripts/ensure-deps.sh" node kafka redis; "$ROOT/infra/scripts/stack.sh" up ;;
  down) "$ROOT/infra/scripts/stack.sh" down ;;
  status)
    case "${2:-}" in
      --caught-up) shift 2; "$ROOT/scripts/ensure-deps.sh" node; npx tsx "$ROOT/scripts/caught-up.ts" "$@" ;;
      "") "$ROOT/infra/scripts/stack.sh" status ;;
      *) die "usage: ./dev status [--caught-up [--wait] [--timeout SECONDS] [--json]]" ;;
    esac
    ;;
  wipe) "$ROOT/infra/scripts/stack.sh" wipe ;;
  setup) "$ROOT/scripts/ensure-deps.sh" all ;;
  lint) cmd_lint ;;
  bench) shift; cmd_bench "$@" ;;
  eval) shift; cmd_eval "$@" ;;
  dlq) shift; cmd_dlq "$@" ;;
  help | -h | --help) sed -n '2,13p' "$ROOT/dev" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command $1 (try ./dev help)" ;;
esac
