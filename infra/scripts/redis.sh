#!/usr/bin/env bash
# Local Redis server from the OS packages.
#   infra/scripts/redis.sh up|down|restart|kill|status|wipe
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIR="$AFFINITY_STATE/redis"
PIDFILE="$DIR/redis.pid"
MARKER="redis-server"
LOGFILE="$DIR/redis.log"

ready() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

up() {
  command -v redis-server >/dev/null 2>&1 || { log "installing redis-server from the OS packages"; apt_install redis-server; }
  if pid_alive "$PIDFILE" "$MARKER" && ready; then echo "REDIS_URL=redis://$REDIS_HOST:$REDIS_PORT"; return 0; fi
  if port_open "$REDIS_HOST" "$REDIS_PORT"; then
    die "something else listens on $REDIS_HOST:$REDIS_PORT; stop it or set REDIS_PORT (and REDIS_URL for the tests)"
  fi
  mkdir -p "$DIR/data"
  sed -e "s#@REDIS_HOST@#$REDIS_HOST#g" -e "s#@REDIS_PORT@#$REDIS_PORT#g" -e "s#@DATA_DIR@#$DIR/data#g" \
    "$AFFINITY_ROOT/infra/redis/redis.conf.template" >"$DIR/redis.conf"
  log "starting Redis on $REDIS_HOST:$REDIS_PORT (log: $LOGFILE)"
  setsid nohup redis-server "$DIR/redis.conf" >>"$LOGFILE" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local i
  for ((i = 0; i < 100; i++)); do
    if ready; then echo "REDIS_URL=redis://$REDIS_HOST:$REDIS_PORT"; return 0; fi
    pid_alive "$PIDFILE" "$MARKER" || { tail -n 20 "$LOGFILE" >&2 || true; die "Redis exited during start-up (see $LOGFILE)"; }
    sleep 0.1
  done
  die "Redis did not answer PING within 10s (see $LOGFILE)"
}

case "${1:-up}" in
  up) up ;;
  down) stop_pid "$PIDFILE" "$MARKER" 30 ;;
  kill) if pid_alive "$PIDFILE" "$MARKER"; then kill -KILL "$(cat "$PIDFILE")"; rm -f "$PIDFILE"; fi ;;
  restart) stop_pid "$PIDFILE" "$MARKER" 30; up ;;
  status) if pid_alive "$PIDFILE" "$MARKER" && ready; then echo "redis: up ($REDIS_HOST:$REDIS_PORT, pid $(cat "$PIDFILE"))"; else echo "redis: down"; exit 1; fi ;;
  wipe) stop_pid "$PIDFILE" "$MARKER" 30; rm -rf "$DIR" ;;
  *) die "usage: $0 up|down|restart|kill|status|wipe" ;;
esac
