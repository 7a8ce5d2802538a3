#!/usr/bin/env bash
# The echo benchmarks of shared BENCHMARKS.md, on loopback: every server
# (Corium's `echo` example if it exists, the raw epoll loop -- the limit --,
# the same loop on `polling::Poller::wait`, tokio current_thread, smol)
# under the same raw-epoll load generator (`loadgen`), interleaved round by
# round, with the server pinned to CPU 0 and the load generator to CPU 1.
#
# Then the 2-worker run, unpinned (server and load generator share both
# CPUs): Corium multi-thread (`--flavor multi --workers 2`), tokio
# multi_thread and smol with 2 workers each, and Corium current-thread
# unpinned (the figure Corium's 2-worker run is held to). Both groups are
# interleaved together in every round, a server measured pinned and
# unpinned counting as two entries.
#
# For each server and round:
#   echo1   64-byte echo, 1 connection: RTT p50/p99, syscalls per round trip
#   echo50  64-byte echo, 50 connections: req/s, server CPU and syscalls per request
#   stream  64 KiB chunks written continuously and echoed back: MiB/s
#   churn   10,000 sequential connect/send/recv/close cycles: conns/s
# Server CPU time and syscalls come from `perf stat -e
# task-clock,raw_syscalls:sys_enter -p <server>`, switched on and off by the
# load generator through a `perf stat --control` fifo at the exact edges of
# its measured window (no ptrace: the server runs at full speed).
#
# Prints a Markdown table (medians, min..max, ratios to the raw epoll loop
# and to tokio) and writes it to benches/NET.md.
#
# Usage: benches/net/echo.sh            (from anywhere; builds first)
# Environment (defaults in brackets):
#   ROUNDS [3]            interleaved rounds (the rules ask for 5 or more)
#   DURATION [5]          measured seconds of echo1 and echo50
#   WARMUP [1]            unmeasured seconds before each echo1/echo50/stream
#   CONNS [50]            connections of echo50
#   SIZE [64]             bytes per echo request
#   STREAM_DURATION [3]   measured seconds of stream
#   STREAM_CONNS [1]      connections of stream
#   CHURN [10000]         cycles of churn
#   BENCHES ["echo1 echo50 stream churn"]     what the pinned servers run
#   SERVERS ["corium epoll polling tokio smol"]  pinned, one thread each
#                         (SERVERS="" runs the unpinned servers alone)
#   UNPINNED_BENCHES ["echo50"]                what the unpinned servers run
#   UNPINNED_SERVERS ["corium-mt corium-pw-mt corium-plain-mt tokio-mt smol-mt corium"]
#                         unpinned; the -mt servers run 2 workers and only
#                         run unpinned (corium-mt: the default topology, one
#                         shared reactor; corium-pw-mt and corium-shared-mt
#                         pick a topology by environment; corium-plain-mt is
#                         echo-tokio's program on Corium, echo-corium)
#   CARGO_TARGET_DIR [<workspace>/target]  where the binaries are (release/)
#   NO_BUILD [0]          1: do not run cargo build, use what is there
#   OUT [benches/NET.md]  where the report goes
#   TSV []                also append the medians to this file (lib.sh's
#                         tsv_summary format; benches/suite.sh reads it)
# A run with ROUNDS=1 and the defaults takes about 2 minutes.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK_PREFIX=corium-netbench
# shellcheck source=benches/net/lib.sh
source "$ROOT/benches/net/lib.sh"

command_with_settings benches/net/echo.sh ROUNDS DURATION WARMUP CONNS SIZE STREAM_DURATION \
    STREAM_CONNS CHURN BENCHES SERVERS UNPINNED_BENCHES UNPINNED_SERVERS CARGO_TARGET_DIR NO_BUILD OUT TSV

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-50}
SIZE=${SIZE:-64}
STREAM_DURATION=${STREAM_DURATION:-3}
STREAM_CONNS=${STREAM_CONNS:-1}
CHURN=${CHURN:-10000}
BENCHES=${BENCHES:-echo1 echo50 stream churn}
SERVERS=${SERVERS-corium epoll polling tokio smol}
UNPINNED_BENCHES=${UNPINNED_BENCHES-echo50}
UNPINNED_SERVERS=${UNPINNED_SERVERS-corium-mt corium-pw-mt corium-plain-mt tokio-mt smol-mt corium}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
NO_BUILD=${NO_BUILD:-0}
OUT=${OUT:-$ROOT/benches/NET.md}
BIN=$TARGET_DIR/release

# ---------------------------------------------------------------- servers

# label_of and command_of: lib.sh's echo-server tables.
label_of() { echo_label_of "$1"; }
command_of() { echo_command_of "$1"; }

# A run entry is a server and a placement, `pinned` (server on CPU 0, load
# generator on CPU 1) or `unpinned` (both share the CPUs); its key, the
# first column of $RESULTS, is the server's name, with `@unpinned` appended
# for an unpinned run, so one server can be measured both ways.
key_of() { if [[ $2 == unpinned ]]; then echo "$1@unpinned"; else echo "$1"; fi; }
server_of() { echo "${1%@unpinned}"; }
placement_of() { if [[ $1 == *@unpinned ]]; then echo unpinned; else echo pinned; fi; }

# benches_of PLACEMENT: what the servers of that placement run.
benches_of() { if [[ $1 == unpinned ]]; then echo "$UNPINNED_BENCHES"; else echo "$BENCHES"; fi; }

# ---------------------------------------------------------------- build

NOTES=()
if [[ "$NO_BUILD" != 1 ]]; then
    say "== building (release): corium-benches binaries"
    (cd "$ROOT" && cargo build --release --quiet -p corium-benches --bins)
fi
# ACTIVE: the keys (see key_of) of every entry that can run: the pinned
# servers, then the unpinned ones.
ACTIVE=()
ENTRIES=()
for server in $SERVERS; do
    if [[ $server == *-mt ]]; then
        say "$server runs 2 workers, which BENCHMARKS.md measures unpinned: list it in UNPINNED_SERVERS"
        exit 2
    fi
    ENTRIES+=("$server")
done
if [[ -n ${UNPINNED_BENCHES// /} ]]; then
    for server in $UNPINNED_SERVERS; do
        ENTRIES+=("$(key_of "$server" unpinned)")
    done
fi
CORIUM_BUILT=""
for key in "${ENTRIES[@]}"; do
    server=$(server_of "$key")
    if ! command_of "$server" >/dev/null; then
        say "unknown server '$server' (known: corium corium-mt corium-shared-mt corium-pw-mt epoll polling tokio smol tokio-mt smol-mt)"
        exit 2
    fi
    if [[ $server == corium* && -z $CORIUM_BUILT ]]; then
        CORIUM_BUILT=no
        if [[ ! -f "$ROOT/examples/echo.rs" && ! -f "$ROOT/examples/echo/main.rs" ]]; then
            NOTES+=("Corium: skipped, examples/echo.rs does not exist yet.")
            say "corium: examples/echo.rs does not exist yet; skipped"
            continue
        fi
        if [[ "$NO_BUILD" != 1 ]]; then
            say "== building (release): the facade's echo example"
            if ! (cd "$ROOT" && cargo build --release --quiet --example echo); then
                NOTES+=("Corium: skipped, \`cargo build --release --example echo\` failed.")
                say "corium: the echo example does not build; skipped"
                continue
            fi
        fi
        CORIUM_BUILT=yes
    fi
    [[ $server != corium* || $CORIUM_BUILT == yes ]] || continue
    exe=$(command_of "$server")
    exe=${exe#env * } # a command may start with `env NAME=value`
    is_built "$server" "${exe%% *}" || continue
    ACTIVE+=("$key")
done
require_loadgen_and_servers

# ---------------------------------------------------------------- pinning and perf

detect_pinning "one-thread tables: server pinned to CPU 0 (\`taskset -c 0\`), load generator to CPU 1 (\`taskset -c 1\`); 2-worker table: neither pinned, server and load generator share both CPUs"
detect_perf
PERF_CONTROL=0
if [[ -n $PERF_EVENTS ]]; then
    # (`perf stat -h` exits non-zero: capture its text before matching.)
    perf_help=$(perf stat -h 2>&1 || true)
    if [[ $perf_help == *--control* ]]; then
        PERF_CONTROL=1
        PERF_WHY+=", counting exactly the load generator's measured window (perf --control fifo)"
    else
        PERF_WHY+=", counting the whole load run (this perf has no --control; warm-up is skipped so the count matches the requests)"
    fi
fi
say "perf: $PERF_WHY"

# ---------------------------------------------------------------- one measurement

RESULTS=$WORK/results.tsv
: >"$RESULTS"
SEQ=0

# run_load SERVER PLACEMENT BENCH ROUND: one load run against the running
# server (the load generator pinned to CPU 1 when PLACEMENT is `pinned`),
# appending a line to $RESULTS:
#   key bench round rate MiB/s lat_p50 lat_p99 cpu_us/unit syscalls/unit
# where the key is key_of SERVER PLACEMENT and the unit is a round trip
# (echo), a MiB echoed (stream) or a connection (churn).
run_load() {
    local server=$1 placement=$2 bench=$3 round=$4 args=() warmup=$WARMUP key
    key=$(key_of "$server" "$placement")
    SEQ=$((SEQ + 1))
    case $bench in
        echo1) args=(--conns 1 --size "$SIZE" --duration "$DURATION") ;;
        echo50) args=(--conns "$CONNS" --size "$SIZE" --duration "$DURATION") ;;
        stream) args=(--stream --conns "$STREAM_CONNS" --duration "$STREAM_DURATION") ;;
        churn) args=(--accept-churn "$CHURN" --size "$SIZE"); warmup=0 ;;
        *) say "unknown benchmark '$bench' (known: echo1 echo50 stream churn)"; exit 2 ;;
    esac
    local json=$WORK/load.$SEQ.json perf_out=$WORK/perf.$SEQ.out perf_pid="" ctl ack
    local load=("$BIN/loadgen" --addr "$SERVER_ADDR" --json "${args[@]}")
    if [[ $placement == pinned ]]; then
        load=("${LOAD_PIN[@]+"${LOAD_PIN[@]}"}" "${load[@]}")
    fi
    if [[ -n $PERF_EVENTS && $PERF_CONTROL == 1 ]]; then
        ctl=$WORK/ctl.$SEQ
        ack=$WORK/ack.$SEQ
        mkfifo "$ctl" "$ack"
        # Keep both fifos open read-write here, so that neither side's open
        # blocks and neither side sees an end of file.
        exec 8<>"$ctl" 9<>"$ack"
        perf stat -x, -o "$perf_out" -D -1 --control "fifo:$ctl,$ack" -e "$PERF_EVENTS" \
            -p "$SERVER_PID" 2>"$perf_out.err" &
        perf_pid=$!
        STARTED_PIDS+=("$perf_pid")
        load+=(--warmup "$warmup" --perf-ctl "$ctl" --perf-ack "$ack")
    elif [[ -n $PERF_EVENTS ]]; then
        perf stat -x, -o "$perf_out" -e "$PERF_EVENTS" -p "$SERVER_PID" 2>"$perf_out.err" &
        perf_pid=$!
        STARTED_PIDS+=("$perf_pid")
        sleep 0.2
        load+=(--warmup 0)
    else
        load+=(--warmup "$warmup")
    fi
    # In the background and `wait`ed for, so that a signal to this script
    # runs its trap at once (bash defers traps while a foreground child runs).
    local ok=1 load_pid
    "${load[@]}" >"$json" 2>"$json.err" &
    load_pid=$!
    STARTED_PIDS+=("$load_pid")
    if ! wait "$load_pid"; then
        ok=0
        say "$key $bench: loadgen failed: $(tail -n 2 "$json.err")"
    fi
    forget "$load_pid"
    if [[ -n $perf_pid ]]; then
        # SIGINT makes `perf stat` print its counts and exit; give it 5 s.
        kill -INT "$perf_pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 50; i++)); do
            kill -0 "$perf_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -TERM "$perf_pid" 2>/dev/null || true
        wait "$perf_pid" 2>/dev/null || true
        forget "$perf_pid"
    fi
    if [[ $PERF_CONTROL == 1 && -n $PERF_EVENTS ]]; then
        exec 8>&- 9>&-
    fi
    [[ $ok == 1 ]] || return 0

    local ops rate mib p50 p99 bytes units cpu_ms syscalls cpu sys
    ops=$(json_get ops "$json")
    rate=$(json_get ops_per_s "$json")
    mib=$(json_get mib_per_s "$json")
    bytes=$(json_get bytes "$json")
    p50=$(json_get lat_p50_us "$json")
    p99=$(json_get lat_p99_us "$json")
    [[ -n $p50 ]] || p50=NA
    [[ -n $p99 ]] || p99=NA
    if [[ $bench == stream ]]; then
        units=$(awk -v b="$bytes" 'BEGIN { printf "%.6f", b / 1048576 }')
    else
        units=$ops
    fi
    cpu_ms=NA
    syscalls=NA
    if [[ -n $perf_pid && -f $perf_out ]]; then
        cpu_ms=$(grep -oE '[0-9.]+,msec,task-clock' "$perf_out" | head -n 1 | cut -d, -f1)
        syscalls=$(grep -oE '[0-9]+,[^,]*,raw_syscalls:sys_enter' "$perf_out" | head -n 1 | cut -d, -f1)
        [[ -n $cpu_ms ]] || cpu_ms=NA
        [[ -n $syscalls ]] || syscalls=NA
    fi
    cpu=$(awk -v c="$cpu_ms" -v u="$units" 'BEGIN { if (c == "NA" || u + 0 <= 0) print "NA"; else printf "%.6f", c * 1000 / u }')
    sys=$(awk -v s="$syscalls" -v u="$units" 'BEGIN { if (s == "NA" || u + 0 <= 0) print "NA"; else printf "%.6f", s / u }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$key" "$bench" "$round" "$rate" "$mib" "$p50" "$p99" "$cpu" "$sys" >>"$RESULTS"
    local unit
    case $bench in stream) unit=MiB ;; churn) unit=conn ;; *) unit=req ;; esac
    say "$(printf '  %-18s %-6s %12.0f /s  %8.2f MiB/s  p50 %8s us  p99 %8s us  CPU %8s us/%s  %8s syscalls/%s' \
        "$key" "$bench" "$rate" "$mib" "$p50" "$p99" "$cpu" "$unit" "$sys" "$unit")"
}

# ---------------------------------------------------------------- the run

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
START=$(date +%s)
for ((round = 1; round <= ROUNDS; round++)); do
    say "== round $round/$ROUNDS"
    rotate_order "$round"
    for key in "${ORDER[@]}"; do
        server=$(server_of "$key")
        placement=$(placement_of "$key")
        read -r -a cmd <<<"$(command_of "$server")"
        if ! start_server "$server" "$placement" "${cmd[@]}"; then
            continue
        fi
        for bench in $(benches_of "$placement"); do
            run_load "$server" "$placement" "$bench" "$round"
        done
        stop_server
    done
done
ELAPSED=$(($(date +%s) - START))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

# ---------------------------------------------------------------- the report

# The figures for the suite's report (benches/suite.sh), when asked.
if [[ -n ${TSV:-} ]]; then
    for key in "${ACTIVE[@]}"; do
        for bench in $(benches_of "$(placement_of "$key")"); do
            for metric in ops_s:4 mib_s:5 p50_us:6 p99_us:7 cpu_us:8 syscalls:9; do
                tsv_summary net "$bench" "$key" "${metric%%:*}" "${metric#*:}"
            done
        done
    done
fi

# summary, cell, ratio and has come from lib.sh.

# table BENCH PLACEMENT: the table of BENCH for the entries of PLACEMENT.
# Ratios are against two references A and B: the raw epoll loop and tokio
# current_thread for the pinned one-thread servers; Corium current-thread
# (unpinned too: the figure BENCHMARKS.md's stretch goal compares with) and
# tokio multi_thread for the unpinned 2-worker table.
table() {
    local bench=$1 placement=$2 key keys=() a b an bn title
    for key in "${ACTIVE[@]}"; do
        if [[ $(placement_of "$key") == "$placement" ]]; then
            keys+=("$key")
        fi
    done
    [[ ${#keys[@]} -gt 0 ]] || return 0
    if [[ $placement == pinned ]]; then
        a=epoll an="raw epoll" b=tokio bn=tokio title=""
    else
        a=corium@unpinned an="Corium ct" b=tokio-mt@unpinned bn=tokio-mt
        title=", unpinned"
    fi
    case $bench in
        echo1)
            echo "### echo, $SIZE B, 1 connection$title"
            echo
            echo "| server | RTT p50 us | RTT p99 us | round trips/s | server CPU us/round trip | syscalls/round trip | CPU vs $an | CPU vs $bn |"
            echo "|---|---|---|---|---|---|---|---|"
            for key in "${keys[@]}"; do
                echo "| $(label_of "$(server_of "$key")") | $(cell "$key" echo1 6 1) | $(cell "$key" echo1 7 1) | $(cell "$key" echo1 4 0) | $(cell "$key" echo1 8 2) | $(cell "$key" echo1 9 2) | $(ratio "$key" "$a" echo1 8) | $(ratio "$key" "$b" echo1 8) |"
            done
            ;;
        echo50)
            echo "### echo, $SIZE B, $CONNS connections$title"
            echo
            echo "| server | req/s | server CPU us/req | syscalls/req | RTT p50 us | RTT p99 us | CPU vs $an | CPU vs $bn | req/s vs $bn | req/s vs $an |"
            echo "|---|---|---|---|---|---|---|---|---|---|"
            for key in "${keys[@]}"; do
                echo "| $(label_of "$(server_of "$key")") | $(cell "$key" echo50 4 0) | $(cell "$key" echo50 8 2) | $(cell "$key" echo50 9 2) | $(cell "$key" echo50 6 0) | $(cell "$key" echo50 7 0) | $(ratio "$key" "$a" echo50 8) | $(ratio "$key" "$b" echo50 8) | $(ratio "$key" "$b" echo50 4) | $(ratio "$key" "$a" echo50 4) |"
            done
            ;;
        stream)
            echo "### echo-stream, 64 KiB writes, $STREAM_CONNS connection(s)$title"
            echo
            echo "| server | MiB/s | server CPU us/MiB | syscalls/MiB | CPU vs $an | CPU vs $bn | MiB/s vs $bn |"
            echo "|---|---|---|---|---|---|---|"
            for key in "${keys[@]}"; do
                echo "| $(label_of "$(server_of "$key")") | $(cell "$key" stream 5 0) | $(cell "$key" stream 8 1) | $(cell "$key" stream 9 1) | $(ratio "$key" "$a" stream 8) | $(ratio "$key" "$b" stream 8) | $(ratio "$key" "$b" stream 5) |"
            done
            ;;
        churn)
            echo "### accept-churn, $CHURN connect/send $SIZE B/recv/close cycles$title"
            echo
            echo "| server | conns/s | cycle p50 us | server CPU us/conn | syscalls/conn | CPU vs $an | CPU vs $bn |"
            echo "|---|---|---|---|---|---|---|"
            for key in "${keys[@]}"; do
                echo "| $(label_of "$(server_of "$key")") | $(cell "$key" churn 4 0) | $(cell "$key" churn 6 1) | $(cell "$key" churn 8 2) | $(cell "$key" churn 9 2) | $(ratio "$key" "$a" churn 8) | $(ratio "$key" "$b" churn 8) |"
            done
            ;;
    esac
    echo
}

# Whether any entry runs unpinned.
has_unpinned() { [[ " ${ACTIVE[*]} " == *"@unpinned "* ]]; }

REPORT=$WORK/report.md
{
    report_header "Corium network benchmarks"
    echo "- $PINNING"
    echo "- load: \`loadgen\` (benches/src/bin/loadgen.rs: one thread, raw epoll, non-blocking sockets); echo runs ${WARMUP} s warm-up then ${DURATION} s measured, stream ${STREAM_DURATION} s measured"
    echo "- server CPU and syscalls: $PERF_WHY"
    echo "- cells: median (min..max) over the rounds; ratios are of medians; in the one-thread tables \"vs tokio\" is against tokio current_thread, in the 2-worker table \"vs tokio-mt\" is against tokio multi_thread (2 workers) and \"vs Corium ct\" against Corium current-thread, both unpinned in the same run"
    report_notes
    echo
    if [[ -n ${SERVERS// /} ]]; then
        echo "## One thread, server pinned to CPU 0, load generator to CPU 1"
        echo
        for bench in $BENCHES; do
            table "$bench" pinned
        done
    fi
    if has_unpinned; then
        echo "## 2 workers, unpinned: server and load generator share both CPUs"
        echo
        echo "Corium multi-thread, tokio multi_thread and smol with 2 worker threads each, and"
        echo "Corium current-thread for comparison, none pinned: the load generator (one"
        echo "thread) competes with the server's threads for the 2 CPUs, so server CPU per"
        echo "request is the figure to read (BENCHMARKS.md: req/s at least tokio-mt's, CPU per"
        echo "request at most tokio-mt's; stretch: within 5% of Corium current-thread's)."
        echo
        for bench in $UNPINNED_BENCHES; do
            table "$bench" unpinned
        done
    fi
    echo "Server CPU is the server process's task-clock over the measured window divided by"
    echo "the requests (MiB, connections) the load generator completed in that window;"
    echo "syscalls likewise from raw_syscalls:sys_enter. On loopback most of a request's"
    echo "cost is the kernel's TCP work: the raw epoll loop (one read, one write and a share"
    echo "of one epoll_wait per request) is the limit, and the ratios to it are what to"
    echo "compare; absolute figures move with the host (see shared BENCHMARKS.md)."
    has tokio || echo "(tokio was not measured in this run: the \"vs tokio\" columns are n/a.)"
    has epoll || echo "(the raw epoll loop was not measured in this run: the \"vs raw epoll\" columns are n/a.)"
    if has_unpinned; then
        has tokio-mt@unpinned || echo "(tokio multi_thread was not measured in this run: the \"vs tokio-mt\" columns are n/a.)"
        has corium@unpinned || echo "(Corium current-thread was not measured unpinned in this run: the \"vs Corium ct\" columns are n/a.)"
    fi
} >"$REPORT"

cat "$REPORT"
cp "$REPORT" "$OUT"
say "wrote $OUT"
