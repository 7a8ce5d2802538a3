#!/usr/bin/env bash
# The application benchmarks of shared BENCHMARKS.md (`http` and `resp`), on
# loopback, with the server pinned to CPU 0 and the load generator to CPU 1:
#
#   http  `wrk -t1 -c50 -d${DURATION}s` against Corium's examples/http_hello,
#         the same server on tokio current_thread (http-tokio), the raw
#         epoll loop answering the same fixed 200 (http-epoll, the limit),
#         and nginx (installed with apt-get when missing; `return 200`, one worker,
#         no master process, no access log).
#   resp  `redis-benchmark -c 50 -n $N -q`, unpipelined and with `-P 16`,
#         tests ping_inline, ping_mbulk, set and get (what `-t ping,set,get`
#         runs, one invocation per test so that each gets its own CPU
#         count), against Corium's examples/mini_redis, the same server on
#         tokio current_thread (redis-tokio) and `redis-server --save ''
#         --appendonly no` (the reference, and the limit of the goal).
#
# For each server, test and round: requests/s (as the load generator
# reports it), and the server's CPU time and syscalls per request from
# `perf stat -e task-clock,raw_syscalls:sys_enter -p <server>` running for
# the whole load command (including its connection setup, so a little more
# than the requests themselves; the same for every server). Rounds are
# interleaved (every server once per round, a fresh process each time).
# Prints a Markdown table (medians, min..max, ratios) and writes it to
# benches/APP.md.
#
# Usage: benches/net/app.sh            (from anywhere; builds first)
# Environment (defaults in brackets):
#   ROUNDS [3]          interleaved rounds (the rules ask for 5 or more)
#   DURATION [10]       seconds of each wrk run
#   N [200000]          requests of each redis-benchmark run (per test)
#   PIPELINES ["1 16"]  redis-benchmark -P values
#   TESTS ["ping_inline ping_mbulk set get"]
#   HTTP_SERVERS ["corium tokio epoll nginx"]
#   RESP_SERVERS ["corium tokio redis"]
#   CARGO_TARGET_DIR [<workspace>/target]  where the binaries are (release/)
#   NO_BUILD [0]        1: do not run cargo build, use what is there
#   NO_INSTALL [0]      1: never try `apt-get install` for missing tools
#   OUT [benches/APP.md] where the report goes
#   TSV []              also append the medians to this file (lib.sh's
#                       tsv_summary format; benches/suite.sh reads it)
# ROUNDS=1 DURATION=5 N=100000 takes about 2 minutes.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK_PREFIX=corium-appbench
# shellcheck source=benches/net/lib.sh
source "$ROOT/benches/net/lib.sh"

command_with_settings benches/net/app.sh ROUNDS DURATION N PIPELINES TESTS HTTP_SERVERS RESP_SERVERS \
    CARGO_TARGET_DIR NO_BUILD NO_INSTALL OUT TSV

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
N=${N:-200000}
CONNS=50
PIPELINES=${PIPELINES:-1 16}
TESTS=${TESTS:-ping_inline ping_mbulk set get}
HTTP_SERVERS=${HTTP_SERVERS:-corium tokio epoll nginx}
RESP_SERVERS=${RESP_SERVERS:-corium tokio redis}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
NO_BUILD=${NO_BUILD:-0}
NO_INSTALL=${NO_INSTALL:-0}
OUT=${OUT:-$ROOT/benches/APP.md}
BIN=$TARGET_DIR/release
# Cargo builds into the same directory the binaries are run from.
export CARGO_TARGET_DIR=$TARGET_DIR

NOTES=()

# ---------------------------------------------------------------- tools

# Installs the missing tools with apt-get when that is possible (root or
# password-less sudo; lib.sh); otherwise the rows that need them are skipped.
TOOLS=(wrk:wrk redis-benchmark:redis-tools redis-server:redis-server)
[[ " $HTTP_SERVERS " != *" nginx "* ]] || TOOLS+=(nginx:nginx-light)
install_missing "${TOOLS[@]}"
HAVE_WRK=0
HAVE_RB=0
HAVE_REDIS=0
command -v wrk >/dev/null && HAVE_WRK=1
command -v redis-benchmark >/dev/null && HAVE_RB=1
command -v redis-server >/dev/null && HAVE_REDIS=1
[[ $HAVE_WRK == 1 ]] || NOTES+=("http: skipped, \`wrk\` is not installed (apt-get install wrk).")
[[ $HAVE_RB == 1 ]] || NOTES+=("resp: skipped, \`redis-benchmark\` is not installed (apt-get install redis-tools).")

# ---------------------------------------------------------------- servers

label_of() {
    case $1 in
        http-corium) echo "Corium current-thread (examples/http_hello)" ;;
        http-tokio) echo "tokio current_thread (http-tokio)" ;;
        http-epoll) echo "raw epoll loop (http-epoll, the limit)" ;;
        http-nginx) echo "nginx, 1 worker" ;;
        resp-corium) echo "Corium current-thread (examples/mini_redis)" ;;
        resp-tokio) echo "tokio current_thread (redis-tokio)" ;;
        resp-redis) echo "redis-server $(redis-server --version 2>/dev/null | sed -n 's/.* v=\([^ ]*\).*/\1/p')" ;;
        *) echo "$1" ;;
    esac
}

# A free loopback port, for the servers that cannot be given port 0.
free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        echo $((20000 + RANDOM % 20000))
    fi
}

# Writes nginx's configuration for PORT to $WORK/nginx.conf.
nginx_conf() {
    mkdir -p "$WORK/nginx"
    cat >"$WORK/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx;
    proxy_temp_path $WORK/nginx;
    fastcgi_temp_path $WORK/nginx;
    uwsgi_temp_path $WORK/nginx;
    scgi_temp_path $WORK/nginx;
    keepalive_requests 1000000000;
    server {
        listen 127.0.0.1:$1;
        default_type text/plain;
        location / { return 200 "Hello, world!"; }
    }
}
CONF
}

# The server's command line; sets FIXED_PORT when the server cannot take
# port 0 (and so prints no `listening on` line).
FIXED_PORT=""
command_of() {
    FIXED_PORT=""
    case $1 in
        http-corium) CMD=("$BIN/examples/http_hello" --addr 127.0.0.1:0 --flavor current) ;;
        http-tokio) CMD=("$BIN/http-tokio" --addr 127.0.0.1:0) ;;
        http-epoll) CMD=("$BIN/http-epoll" --addr 127.0.0.1:0) ;;
        resp-corium) CMD=("$BIN/examples/mini_redis" --addr 127.0.0.1:0 --flavor current) ;;
        resp-tokio) CMD=("$BIN/redis-tokio" --addr 127.0.0.1:0) ;;
        http-nginx)
            FIXED_PORT=$(free_port)
            nginx_conf "$FIXED_PORT"
            CMD=(nginx -p "$WORK/nginx" -c "$WORK/nginx.conf")
            ;;
        resp-redis)
            FIXED_PORT=$(free_port)
            CMD=(redis-server --port "$FIXED_PORT" --bind 127.0.0.1 --save '' --appendonly no
                --daemonize no --dir "$WORK" --logfile "$WORK/redis.log")
            ;;
        *) return 1 ;;
    esac
}

# ---------------------------------------------------------------- build

if [[ "$NO_BUILD" != 1 ]]; then
    say "== building (release) into $TARGET_DIR: corium-benches binaries, examples http_hello and mini_redis"
    (cd "$ROOT" && cargo build --release --quiet -p corium-benches --bin http-tokio --bin http-epoll --bin redis-tokio)
    if ! (cd "$ROOT" && cargo build --release --quiet --example http_hello --example mini_redis); then
        NOTES+=("Corium: \`cargo build --release --example http_hello --example mini_redis\` failed; its rows are skipped.")
    fi
fi

# ACTIVE: the servers to run, "http-..." and "resp-...".
ACTIVE=()
add_server() {
    local id=$1
    if ! command_of "$id"; then
        say "unknown server '$id'"
        exit 2
    fi
    if [[ $id == http-nginx ]] && ! command -v nginx >/dev/null; then
        NOTES+=("nginx: skipped, not installed and \`apt-get install nginx-light\` was not possible here.")
        return
    fi
    if [[ $id == resp-redis && $HAVE_REDIS != 1 ]]; then
        NOTES+=("redis-server: skipped, not installed (apt-get install redis-server).")
        return
    fi
    if [[ ${CMD[0]} == /* ]] && ! is_built "$id" "${CMD[0]}"; then
        return
    fi
    ACTIVE+=("$id")
}
if [[ $HAVE_WRK == 1 ]]; then
    for s in $HTTP_SERVERS; do add_server "http-$s"; done
fi
if [[ $HAVE_RB == 1 ]]; then
    for s in $RESP_SERVERS; do add_server "resp-$s"; done
fi
if [[ ${#ACTIVE[@]} -eq 0 ]]; then
    say "nothing to measure"
    exit 1
fi

# ---------------------------------------------------------------- pinning and perf

detect_pinning "server pinned to CPU 0 (\`taskset -c 0\`), load generator to CPU 1 (\`taskset -c 1\`)"
detect_perf
[[ -z $PERF_EVENTS ]] || PERF_WHY+=" over the whole load command"
say "perf: $PERF_WHY"

# ---------------------------------------------------------------- one measurement

RESULTS=$WORK/results.tsv
: >"$RESULTS"
SEQ=0

# start_pinned ID: start_server (lib.sh) for the server ID, pinned, watched
# on its fixed port if it has one; sets SERVER_PORT.
start_pinned() {
    local id=$1 port=()
    command_of "$id"
    [[ -z $FIXED_PORT ]] || port=(--port "$FIXED_PORT")
    start_server "${port[@]+"${port[@]}"}" "$id" pinned "${CMD[@]}" || return 1
    SERVER_PORT=${SERVER_ADDR##*:}
}

# measure OUT LOAD...: runs the load command (pinned) with `perf stat` on
# the server for its whole length; sets CPU_MS and SYSCALLS (or NA).
# Returns 1 if the load command failed.
measure() {
    local out=$1 perf_out perf_pid="" ok=0 load_pid i
    shift
    SEQ=$((SEQ + 1))
    perf_out=$WORK/perf.$SEQ.out
    CPU_MS=NA
    SYSCALLS=NA
    if [[ -n $PERF_EVENTS ]]; then
        perf stat -x, -o "$perf_out" -e "$PERF_EVENTS" -p "$SERVER_PID" 2>"$perf_out.err" &
        perf_pid=$!
        STARTED_PIDS+=("$perf_pid")
        sleep 0.3
    fi
    # In the background and `wait`ed for, so that a signal to this script
    # runs its trap at once.
    "${LOAD_PIN[@]+"${LOAD_PIN[@]}"}" "$@" >"$out" 2>"$out.err" &
    load_pid=$!
    STARTED_PIDS+=("$load_pid")
    wait "$load_pid" || ok=1
    forget "$load_pid"
    if [[ -n $perf_pid ]]; then
        kill -INT "$perf_pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$perf_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -TERM "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
        forget "$perf_pid"
        if [[ -f $perf_out ]]; then
            CPU_MS=$(grep -oE '[0-9.]+,msec,task-clock' "$perf_out" | head -n 1 | cut -d, -f1 || true)
            SYSCALLS=$(grep -oE '[0-9]+,[^,]*,raw_syscalls:sys_enter' "$perf_out" | head -n 1 | cut -d, -f1 || true)
            [[ -n $CPU_MS ]] || CPU_MS=NA
            [[ -n $SYSCALLS ]] || SYSCALLS=NA
        fi
    fi
    return $ok
}

# record ID BENCH ROUND RATE REQUESTS: appends a line to $RESULTS:
#   id bench round req/s cpu_us/req syscalls/req
record() {
    local cpu sys
    cpu=$(awk -v c="$CPU_MS" -v u="$5" 'BEGIN { if (c == "NA" || u + 0 <= 0) print "NA"; else printf "%.6f", c * 1000 / u }')
    sys=$(awk -v s="$SYSCALLS" -v u="$5" 'BEGIN { if (s == "NA" || u + 0 <= 0) print "NA"; else printf "%.6f", s / u }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$cpu" "$sys" >>"$RESULTS"
    say "$(printf '  %-12s %-16s %10.0f req/s  CPU %8s us/req  %8s syscalls/req' "$1" "$2" "$4" "$cpu" "$sys")"
}

run_http() {
    local id=$1 round=$2 out=$WORK/wrk.out requests rate errors
    if ! measure "$out" wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$SERVER_PORT/"; then
        say "$id: wrk failed: $(tail -n 2 "$out.err")"
        return 0
    fi
    requests=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$out")
    rate=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$out")
    errors=$(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ' | tr '\n' ';' || true)
    if [[ -z $requests || -z $rate ]]; then
        say "$id: cannot read wrk's output: $(head -n 5 "$out")"
        return 0
    fi
    if [[ -n $errors ]]; then
        NOTES+=("$(label_of "$id"), round $round: wrk reported: $errors")
    fi
    record "$id" wrk "$round" "$rate" "$requests"
}

run_resp() {
    local id=$1 round=$2 out=$WORK/rb.out test pipeline rate name
    for pipeline in $PIPELINES; do
        for test in $TESTS; do
            if ! measure "$out" redis-benchmark -h 127.0.0.1 -p "$SERVER_PORT" -t "$test" \
                -c "$CONNS" -n "$N" -P "$pipeline" -q; then
                say "$id $test -P $pipeline: redis-benchmark failed: $(tail -n 2 "$out.err")"
                continue
            fi
            # -q prints progress lines ending in \r, then "TEST: R requests per second, ...".
            rate=$(tr '\r' '\n' <"$out" | sed -n 's/^ *[A-Z_]*: \([0-9.]*\) requests per second.*/\1/p' | tail -n 1)
            if [[ -z $rate ]]; then
                say "$id $test: cannot read redis-benchmark's output: $(tr '\r' '\n' <"$out" | tail -n 3)"
                continue
            fi
            name="$test-P$pipeline"
            record "$id" "$name" "$round" "$rate" "$N"
        done
    done
}

# ---------------------------------------------------------------- the run

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
START=$(date +%s)
for ((round = 1; round <= ROUNDS; round++)); do
    say "== round $round/$ROUNDS"
    rotate_order "$round"
    for id in "${ORDER[@]}"; do
        start_pinned "$id" || continue
        case $id in
            http-*) run_http "$id" "$round" ;;
            resp-*) run_resp "$id" "$round" ;;
        esac
        stop_server
    done
done
ELAPSED=$(($(date +%s) - START))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

# ---------------------------------------------------------------- the report

# The figures for the suite's report (benches/suite.sh), when asked.
if [[ -n ${TSV:-} ]]; then
    for id in "${ACTIVE[@]}"; do
        for bench in $(awk -F'\t' -v id="$id" '$1 == id { print $2 }' "$RESULTS" | sort -u); do
            for metric in req_s:4 cpu_us:5 syscalls:6; do
                tsv_summary app "$bench" "$id" "${metric%%:*}" "${metric#*:}"
            done
        done
    done
fi

# summary, cell, ratio and has come from lib.sh.

# verdict VALUE OP LIMIT: "met" / "missed" / "n/a" for a ratio "1.03x".
verdict() {
    awk -v v="${1%x}" -v op="$2" -v l="$3" 'BEGIN {
        if (v == "n/a") { print "n/a"; exit }
        ok = (op == "<=") ? (v + 0 <= l + 0) : (v + 0 < l + 0)
        print ok ? "met" : "missed"
    }'
}

http_table() {
    local id
    echo "### http: \`wrk -t1 -c$CONNS -d${DURATION}s http://127.0.0.1:PORT/\`"
    echo
    echo "| server | req/s | server CPU us/req | syscalls/req | CPU vs tokio | CPU vs raw epoll |"
    echo "|---|---|---|---|---|---|"
    for id in "${ACTIVE[@]}"; do
        [[ $id == http-* ]] || continue
        echo "| $(label_of "$id") | $(cell "$id" wrk 4 0) | $(cell "$id" wrk 5 2) | $(cell "$id" wrk 6 2) | $(ratio "$id" http-tokio wrk 5) | $(ratio "$id" http-epoll wrk 5) |"
    done
    echo
}

resp_table() {
    local pipeline=$1 id test
    echo "### resp: \`redis-benchmark -p PORT -t TEST -c $CONNS -n $N -P $pipeline -q\`"
    echo
    echo "| test | server | req/s | server CPU us/req | syscalls/req | CPU vs tokio | CPU vs redis-server |"
    echo "|---|---|---|---|---|---|---|"
    for test in $TESTS; do
        for id in "${ACTIVE[@]}"; do
            [[ $id == resp-* ]] || continue
            echo "| $test | $(label_of "$id") | $(cell "$id" "$test-P$pipeline" 4 0) | $(cell "$id" "$test-P$pipeline" 5 2) | $(cell "$id" "$test-P$pipeline" 6 2) | $(ratio "$id" resp-tokio "$test-P$pipeline" 5) | $(ratio "$id" resp-redis "$test-P$pipeline" 5) |"
        done
    done
    echo
}

goals() {
    local r test pipeline t
    echo "### Goals (server CPU per request, medians)"
    echo
    echo "| goal | measured | verdict |"
    echo "|---|---|---|"
    if has http-corium; then
        r=$(ratio http-corium http-epoll wrk 5)
        echo "| http_hello within 5% of the raw epoll loop (<= 1.05x) | $r | $(verdict "$r" '<=' 1.05) |"
    fi
    if has resp-corium; then
        for pipeline in $PIPELINES; do
            for test in $TESTS; do
                t=$(ratio resp-corium resp-tokio "$test-P$pipeline" 5)
                r=$(ratio resp-corium resp-redis "$test-P$pipeline" 5)
                echo "| mini_redis $test -P $pipeline: at most tokio (<= 1.00x) | $t | $(verdict "$t" '<=' 1.00) |"
                echo "| mini_redis $test -P $pipeline: below redis-server (< 1.00x) | $r | $(verdict "$r" '<' 1.00) |"
            done
        done
    fi
    echo
}

REPORT=$WORK/report.md
{
    report_header "Corium application benchmarks"
    echo "- $PINNING"
    echo "- load: $(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2 || true); redis-benchmark $(redis-benchmark --version 2>/dev/null | cut -d' ' -f2 || true), one invocation per test (\`-t ping,set,get\` runs ping_inline, ping_mbulk, set, get)"
    echo "- server CPU and syscalls: $PERF_WHY, divided by the requests the load generator completed (wrk's total; redis-benchmark's -n)"
    echo "- cells: median (min..max) over the rounds; ratios are of medians"
    report_notes
    echo
    has http-corium || has http-tokio || has http-epoll || has http-nginx && http_table
    for pipeline in $PIPELINES; do
        has resp-corium || has resp-tokio || has resp-redis && resp_table "$pipeline"
    done
    goals
    echo "The perf window spans the whole load command (connection setup included, about"
    echo "0.3 s of idle before it), so per-request figures are slightly above the steady"
    echo "state, equally for every server. Absolute figures move with the host: compare"
    echo "the ratios (see shared BENCHMARKS.md)."
} >"$REPORT"

cat "$REPORT"
cp "$REPORT" "$OUT"
say "wrote $OUT"
