#!/usr/bin/env bash
# WAL bytes and commits per submit (wrk burst) and per request run to its end, on a private PostgreSQL,
# each net of the idle server's own background rate. Run as root with target/genqueue.jar built; see docs/scale.md.
# PostgreSQL's server binaries: /usr/lib/postgresql/15/bin (Debian's postgresql package), or PG_BIN.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${PROBE_DIR:-/tmp/genqueue-scale-probe}
mkdir -p "$W"
B=${PG_BIN:-/usr/lib/postgresql/15/bin}; [[ -x $B/initdb ]] || { echo "no PostgreSQL server binaries in $B (set PG_BIN)"; exit 1; }; P=55439; DIR=$W/data
export JAVA_HOME=$("$ROOT/genqueue" jdk)
su postgres -c "$B/pg_ctl -D $DIR stop -m fast" >/dev/null 2>&1
rm -rf $DIR $W/pglog; mkdir -p $DIR $W/pglog; chown postgres $DIR $W/pglog
su postgres -c "$B/initdb -D $DIR -A trust -U postgres >/dev/null" && su postgres -c "$B/pg_ctl -D $DIR -o '-p $P -k /tmp' -l $W/pglog/pg.log start >/dev/null"
sleep 2
Q() { psql -h 127.0.0.1 -p $P -U postgres -d postgres -At -c "$1"; }
snap() { Q "select pg_current_wal_lsn(), xact_commit, extract(epoch from clock_timestamp()) from pg_stat_database where datname='postgres'"; }
delta() { python3 - "$@" <<'PY'
import sys
def lsn(s): a,b=s.split('/'); return (int(a,16)<<32)+int(b,16)
(l0,x0,t0),(l1,x1,t1)=[v.split('|') for v in sys.argv[1:3]]
print(lsn(l1)-lsn(l0), int(x1)-int(x0), round(float(t1)-float(t0),2))
PY
}
start() { # WORKERS
  D=$W/srv-$1-$RANDOM
  GENQUEUE_STORE=postgresql://postgres@127.0.0.1:$P/postgres GENQUEUE_PORT=18190 GENQUEUE_DATA_DIR=$D GENQUEUE_WORKERS=$1 \
    GENQUEUE_LOG_LEVEL=warn $JAVA_HOME/bin/java --enable-native-access=ALL-UNNAMED -jar $ROOT/target/genqueue.jar serve > $D.out 2>&1 &
  PID=$!
  for i in $(seq 300); do sleep 0.2; K=$(grep -o "gq_[A-Za-z0-9_]*" $D.out 2>/dev/null | head -1); [[ -n $K ]] && KEY=$K; curl -s localhost:18190/healthz >/dev/null && [[ -n ${KEY:-} ]] && break; done
}
start 0
sleep 5; a=$(snap); sleep 20; b=$(snap); echo "idle: $(delta "$a" "$b") (WAL bytes, commits, seconds)"
GENQUEUE_KEY=$KEY wrk -t1 -c16 -d3s -s $ROOT/bench/lua/submit.lua http://127.0.0.1:18190/v1/queue/nano_banana >/dev/null
a=$(snap); N=$(GENQUEUE_KEY=$KEY wrk -t1 -c16 -d5s -s $ROOT/bench/lua/submit.lua http://127.0.0.1:18190/v1/queue/nano_banana | awk '/requests in/{print $1}'); b=$(snap)
echo "submits: $N requests: $(delta "$a" "$b")"
Q "select count(*), pg_total_relation_size('jobs'), pg_relation_size('jobs'), pg_indexes_size('jobs') from jobs"
kill $PID; wait $PID 2>/dev/null
Q "truncate jobs cascade"
start 4
sleep 5; a=$(snap)
seq 40 | xargs -P8 -I{} curl -s -o /dev/null localhost:18190/v1/queue/nano_banana -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"prompt":"a red apple on a white table","aspect_ratio":"1:1"}'
for i in $(seq 600); do n=$(Q "select count(*) from jobs where state in ('QUEUED','RUNNING')"); [[ $n == 0 ]] && break; sleep 0.5; done
b=$(snap); echo "40 requests run to the end: $(delta "$a" "$b")"
Q "select state, count(*) from jobs group by 1"
Q "select count(*) from job_logs" 2>/dev/null
Q "select relname, n_tup_ins, n_tup_upd, n_tup_del from pg_stat_user_tables where n_tup_ins+n_tup_upd+n_tup_del > 0 order by 1"
kill $PID; wait $PID 2>/dev/null
su postgres -c "$B/pg_ctl -D $DIR stop -m fast >/dev/null"
