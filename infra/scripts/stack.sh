#!/usr/bin/env bash
# The whole local stack: Kafka + Redis, plus the topics of packages/contracts.
#   infra/scripts/stack.sh up|down|status|wipe
# `up` prints the endpoints as KEY=value lines, ready for `eval` or an env file.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
S="$AFFINITY_ROOT/infra/scripts"
case "${1:-up}" in
  up)
    "$S/redis.sh" up
    "$S/kafka.sh" up
    ;;
  down)
    "$S/kafka.sh" down
    "$S/redis.sh" down
    ;;
  status)
    rc=0
    "$S/kafka.sh" status || rc=1
    "$S/redis.sh" status || rc=1
    exit $rc
    ;;
  wipe)
    "$S/kafka.sh" wipe
    "$S/redis.sh" wipe
    ;;
  *) die "usage: $0 up|down|status|wipe" ;;
esac
