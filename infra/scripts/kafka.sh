#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft) without Docker.
#   infra/scripts/kafka.sh up|down|restart|kill|status|wipe
# up is idempotent: a broker it already started is reused. down stops only the broker
# this script started (pid file + command-line check), never someone else's Kafka.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIR="$AFFINITY_STATE/kafka"
PIDFILE="$DIR/kafka.pid"
MARKER="$DIR/server.properties"
LOGFILE="$DIR/kafka.log"

ready() {
  # A TCP accept is not readiness: ask the broker for metadata through the real protocol.
  port_open "$KAFKA_HOST" "$KAFKA_PORT" || return 1
  node "$AFFINITY_ROOT/infra/scripts/probe.mjs" kafka "$KAFKA_HOST:$KAFKA_PORT" >/dev/null 2>&1
}

up() {
  if pid_alive "$PIDFILE" "$MARKER"; then
    wait_ready
    echo "KAFKA_BROKERS=$KAFKA_HOST:$KAFKA_PORT"
    return 0
  fi
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    die "something else listens on $KAFKA_HOST:$KAFKA_PORT; stop it or set KAFKA_PORT (and KAFKA_BROKERS for the tests)"
  fi
  local libs
  libs="$("$AFFINITY_ROOT/infra/scripts/kafka-install.sh")"
  mkdir -p "$DIR/data"
  sed -e "s#@KAFKA_HOST@#$KAFKA_HOST#g" -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" \
    -e "s#@KAFKA_CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" -e "s#@DATA_DIR@#$DIR/data#g" \
    "$AFFINITY_ROOT/infra/kafka/server.properties.template" >"$DIR/server.properties"
  if [ ! -f "$DIR/data/meta.properties" ]; then
    local cluster_id
    cluster_id="$(java -cp "$libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    java -Dlog4j.configuration="file:$AFFINITY_ROOT/infra/kafka/log4j.properties" -cp "$libs/*" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$DIR/server.properties" >&2
  fi
  log "starting Kafka $KAFKA_VERSION on $KAFKA_HOST:$KAFKA_PORT (log: $LOGFILE)"
  # setsid: the broker must not die with the shell (or the test runner) that started it.
  setsid nohup java -Xms256m -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$AFFINITY_ROOT/infra/kafka/log4j.properties" \
    -cp "$libs/*" kafka.Kafka "$DIR/server.properties" >>"$LOGFILE" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  wait_ready
  echo "KAFKA_BROKERS=$KAFKA_HOST:$KAFKA_PORT"
}

wait_ready() {
  local i
  for ((i = 0; i < 120; i++)); do
    if ready; then return 0; fi
    pid_alive "$PIDFILE" "$MARKER" || { tail -n 30 "$LOGFILE" >&2 || true; die "Kafka exited during start-up (see $LOGFILE)"; }
    sleep 0.5
  done
  die "Kafka did not answer within 60s (see $LOGFILE)"
}

case "${1:-up}" in
  up) up ;;
  down) stop_pid "$PIDFILE" "$MARKER" 60 ;;
  # Simulates a crash: no controlled shutdown.
  kill) if pid_alive "$PIDFILE" "$MARKER"; then kill -KILL "$(cat "$PIDFILE")"; rm -f "$PIDFILE"; fi ;;
  restart) stop_pid "$PIDFILE" "$MARKER" 60; up ;;
  status) if pid_alive "$PIDFILE" "$MARKER" && ready; then echo "kafka: up ($KAFKA_HOST:$KAFKA_PORT, pid $(cat "$PIDFILE"))"; else echo "kafka: down"; exit 1; fi ;;
  wipe) stop_pid "$PIDFILE" "$MARKER" 60; rm -rf "$DIR" ;;
  *) die "usage: $0 up|down|restart|kill|status|wipe" ;;
esac
