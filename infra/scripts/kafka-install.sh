#!/usr/bin/env bash
# Fetches the Apache Kafka broker jars for $KAFKA_VERSION from Maven Central into the cache,
# verifies each against infra/kafka/kafka-$KAFKA_VERSION.lock (sha256) and prints the libs dir.
# Idempotent: a verified cache is reused without touching the network.
#   KAFKA_LOCK_UPDATE=1 infra/scripts/kafka-install.sh   # (re)write the lock after a version bump
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOCK="$AFFINITY_ROOT/infra/kafka/kafka-$KAFKA_VERSION.lock"
DEST="$AFFINITY_CACHE/kafka-$KAFKA_VERSION"

verify() {
  local dir="$1" n=0 name sum
  [ -f "$LOCK" ] || return 1
  while read -r sum name; do
    [ -n "$sum" ] || continue
    [ -f "$dir/$name" ] || { log "missing $name"; return 1; }
    [ "$(sha256_of "$dir/$name")" = "$sum" ] || { log "checksum mismatch: $name"; return 1; }
    n=$((n + 1))
  done <"$LOCK"
  # Nothing unexpected on the classpath either.
  [ "$(find "$dir" -maxdepth 1 -name '*.jar' | wc -l)" -eq "$n" ] || { log "unexpected jars in $dir"; return 1; }
}

if [ -d "$DEST/libs" ] && [ "${KAFKA_LOCK_UPDATE:-0}" != 1 ] && verify "$DEST/libs"; then
  echo "$DEST/libs"
  exit 0
fi

command -v java >/dev/null 2>&1 || { log "installing a Java runtime"; apt_install openjdk-17-jre-headless; }
command -v mvn >/dev/null 2>&1 || { log "installing Maven"; apt_install maven; }

log "fetching Apache Kafka $KAFKA_VERSION from Maven Central"
tmp="$(mktemp -d "${AFFINITY_CACHE%/}.kafka.XXXXXX" 2>/dev/null || { mkdir -p "$AFFINITY_CACHE"; mktemp -d "$AFFINITY_CACHE/.kafka.XXXXXX"; })"
trap 'rm -rf "$tmp"' EXIT
# -C: fail on a repository checksum mismatch (Maven's own sha1 check) before our sha256 check.
mvn -q -B -C -f "$AFFINITY_ROOT/infra/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/libs" >&2 \
  || die "Maven could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION"

if [ "${KAFKA_LOCK_UPDATE:-0}" = 1 ]; then
  (cd "$tmp/libs" && sha256sum -- *.jar | awk '{print $1, $2}' | sort -k2) >"$LOCK"
  log "wrote $LOCK"
elif [ ! -f "$LOCK" ]; then
  die "no lock file $LOCK for Kafka $KAFKA_VERSION; review the version and run KAFKA_LOCK_UPDATE=1 $0"
fi
verify "$tmp/libs" || die "downloaded jars do not match $LOCK"
mkdir -p "$AFFINITY_CACHE"
rm -rf "$DEST"
mv "$tmp" "$DEST"
trap - EXIT
echo "$DEST/libs"
