#!/usr/bin/env bash
# The idle-connection memory benchmark of shared BENCHMARKS.md: the
# resident memory a server spends per connection while 10,000 connections
# sit idle. Every server (Corium's `echo` example on each flavor, the raw
# epoll loop -- the limit --, tokio current_thread and multi_thread, smol)
# runs with a 64-byte per-connection buffer (`--buffer`), as BENCHMARKS.md
# compares them, interleaved round by round.
#
# For each server and round: start it, let it settle, read its resident
# memory (/proc/PID/status: VmRSS, and RssAnon), run `loadgen --idle
# CONNS` (each connection echoes one 64-byte message, so the server has
# accepted it and set up all it keeps per connection, then stays open and
# idle), read the memory again once every connection is established, and
# report (after - before) / CONNS. One-thread servers are pinned to CPU 0
# and the load generator to CPU 1; the 2-worker servers are not pinned.
#
# This is user-space memory as the process's RSS sees it: the kernel's
# socket buffers and file table are not in RSS.
#
# Prints a Markdown table (medians, min..max, ratios to tokio current_thread
# and to the raw epoll loop) and writes it to benches/IDLE.md.
#
# Usage: benches/net/idle.sh            (from anywhere; builds first)
# Environment (defaults in brackets):
#   ROUNDS [3]            interleaved rounds (the rules ask for 5 or more)
#   CONNS [10000]         idle connections
#   BUFFER [64]           per-connection buffer of the servers (--buffer)
#   SIZE [64]             bytes each connection echoes once
#   SETTLE [0.3]          seconds to wait before each memory reading
#   SERVERS ["corium corium-mt epoll tokio tokio-mt smol"]  the -mt servers
#                         run 2 workers, unpinned; the others one thread, pinned
#   CARGO_TARGET_DIR [<workspace>/target]  where the binaries are (release/)
#   NO_BUILD [0]          1: do not run cargo build, use what is there
#   OUT [benches/IDLE.md] where the report goes
#   TSV [unset]           a file to append the figures to, tab-separated
#                         (see tsv_summary in lib.sh): section `idle`,
#                         bench `idle<CONNS>`, metrics kb_per_conn and
#                         rss_after_mb
# A run with ROUNDS=1 and the defaults takes about 10 seconds once built.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK_PREFIX=corium-idlebench
# shellcheck source=benches/net/lib.sh
source "$ROOT/benches/net/lib.sh"

command_with_settings benches/net/idle.sh ROUNDS CONNS BUFFER SIZE SETTLE SERVERS CARGO_TARGET_DIR NO_BUILD OUT TSV

ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-10000}
BUFFER=${BUFFER:-64}
SIZE=${SIZE:-64}
SETTLE=${SETTLE:-0.3}
SERVERS=${SERVERS:-corium corium-mt epoll tokio tokio-mt smol}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
NO_BUILD=${NO_BUILD:-0}
OUT=${OUT:-$ROOT/benches/IDLE.md}
BIN=$TARGET_DIR/release
BENCH=idle$CONNS

# How long the load generator holds its connections at most (the script
# stops it as soon as the memory is read); its setup fails after 60 s.
HOLD=120

# ---------------------------------------------------------------- servers

label_of() { echo_label_of "$1"; }

# The server's command line (lib.sh's, without pinning), with a $BUFFER-byte
# buffer per connection. The raw epoll loop keeps no buffer per connection
# (one shared read buffer), so it takes no --buffer; the polling loop is
# not measured here.
command_of() {
    local cmd
    [[ $1 != polling ]] || return 1
    cmd=$(echo_command_of "$1") || return 1
    [[ $1 == epoll ]] || cmd+=" --buffer $BUFFER"
    echo "$cmd"
}

# placement_of SERVER: one-thread servers are `pinned`, the 2-worker ones
# `unpinned`.
placement_of() { if [[ $1 == *-mt ]]; then echo unpinned; else echo pinned; fi; }

# ---------------------------------------------------------------- build

NOTES=()
if [[ "$NO_BUILD" != 1 ]]; then
    say "== building (release): corium-benches binaries, the facade's echo example"
    (cd "$ROOT" && cargo build --release --quiet -p corium-benches --bins)
    (cd "$ROOT" && cargo build --release --quiet --example echo)
fi
ACTIVE=()
for server in $SERVERS; do
    if ! command_of "$server" >/dev/null; then
        say "unknown server '$server' (known: corium corium-mt epoll tokio tokio-mt smol smol-mt)"
        exit 2
    fi
    exe=$(command_of "$server")
    is_built "$server" "${exe%% *}" || continue
    ACTIVE+=("$server")
done
require_loadgen_and_servers

# ---------------------------------------------------------------- limits and pinning

# The server and the load generator each hold CONNS sockets: raise the
# open-file limit they inherit (the hard limit too, as root).
NEED_FDS=$((CONNS + 1024))
if [[ $(ulimit -Sn) != unlimited && $(ulimit -Sn) -lt $NEED_FDS ]]; then
    if ! ulimit -n "$NEED_FDS" 2>/dev/null; then
        say "the open-file limit is $(ulimit -Hn) (hard); $CONNS connections need $NEED_FDS: raise it (as root: ulimit -Hn $NEED_FDS)"
        exit 1
    fi
fi
FD_LIMIT=$(ulimit -Sn)

detect_pinning "one-thread servers pinned to CPU 0 (\`taskset -c 0\`), the load generator then to CPU 1 (\`taskset -c 1\`); 2-worker servers and their load generator not pinned"

# ---------------------------------------------------------------- one measurement

RESULTS=$WORK/results.tsv
: >"$RESULTS"
SEQ=0

# memory_kb PID FIELD: FIELD of /proc/PID/status in kB (1024 bytes), or NA
# (RssAnon is missing before Linux 4.5).
memory_kb() {
    local kb
    kb=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || true)
    echo "${kb:-NA}"
}

# measure SERVER ROUND: one measurement against the running server,
# appending a line to $RESULTS:
#   server bench round kb/conn rss_after_MB anon_kb/conn rss_before_MB setup_s
# kb/conn from VmRSS, anon_kb/conn from RssAnon (NA without it).
measure() {
    local server=$1 round=$2 json load load_pid ok=0 i
    SEQ=$((SEQ + 1))
    json=$WORK/load.$SEQ.json
    sleep "$SETTLE"
    local rss0 anon0 rss1 anon1
    rss0=$(memory_kb "$SERVER_PID" VmRSS)
    anon0=$(memory_kb "$SERVER_PID" RssAnon)
    load=("$BIN/loadgen" --addr "$SERVER_ADDR" --idle "$CONNS" --size "$SIZE" --hold "$HOLD" --json)
    if [[ $(placement_of "$server") == pinned ]]; then
        load=("${LOAD_PIN[@]+"${LOAD_PIN[@]}"}" "${load[@]}")
    fi
    "${load[@]}" >"$json" 2>"$json.err" &
    load_pid=$!
    STARTED_PIDS+=("$load_pid")
    # Its setup fails by itself after 60 s; the line comes once all are up.
    for ((i = 0; i < 700; i++)); do
        if [[ -s $json ]]; then
            ok=1
            break
        fi
        kill -0 "$load_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [[ $ok == 1 ]]; then
        sleep "$SETTLE"
        rss1=$(memory_kb "$SERVER_PID" VmRSS)
        anon1=$(memory_kb "$SERVER_PID" RssAnon)
    else
        say "  $server: loadgen failed: $(tail -n 2 "$json.err")"
    fi
    stop "$load_pid"
    [[ $ok == 1 && $rss0 != NA && $rss1 != NA ]] || return 0

    local conns setup per_conn per_conn_anon
    conns=$(json_get idle_conns "$json")
    setup=$(json_get setup_s "$json")
    per_conn=$(awk -v a="$rss0" -v b="$rss1" -v n="$conns" 'BEGIN { printf "%.4f", (b - a) / n }')
    per_conn_anon=$(awk -v a="$anon0" -v b="$anon1" -v n="$conns" \
        'BEGIN { if (a == "NA" || b == "NA") print "NA"; else printf "%.4f", (b - a) / n }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$BENCH" "$round" "$per_conn" \
        "$(awk -v k="$rss1" 'BEGIN { printf "%.2f", k / 1024 }')" "$per_conn_anon" \
        "$(awk -v k="$rss0" 'BEGIN { printf "%.2f", k / 1024 }')" "$setup" >>"$RESULTS"
    say "$(printf '  %-10s %8s KB/conn (RssAnon %8s)  RSS %6s -> %6s MB  setup %6.2f s' \
        "$server" "$per_conn" "$per_conn_anon" "$(awk -v k="$rss0" 'BEGIN { printf "%.1f", k / 1024 }')" \
        "$(awk -v k="$rss1" 'BEGIN { printf "%.1f", k / 1024 }')" "$setup")"
}

# ---------------------------------------------------------------- the run

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
START=$(date +%s)
for ((round = 1; round <= ROUNDS; round++)); do
    rotate_order "$round"
    for server in "${ORDER[@]}"; do
        say "== idle round $round/$ROUNDS: $server"
        read -r -a cmd <<<"$(command_of "$server")"
        if ! start_server "$server" "$(placement_of "$server")" "${cmd[@]}"; then
            continue
        fi
        measure "$server" "$round"
        stop_server
    done
done
ELAPSED=$(($(date +%s) - START))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

# ---------------------------------------------------------------- the report

# summary, cell, ratio, has and tsv_summary come from lib.sh.

REPORT=$WORK/report.md
{
    report_header "Corium: resident memory per idle connection"
    echo "- $PINNING; open-file limit $FD_LIMIT"
    echo "- load: \`loadgen --idle $CONNS --size $SIZE\` (benches/src/bin/loadgen.rs, raw epoll): $CONNS connections, at most 64 connecting at a time, each echoing one $SIZE-byte message, then held open and idle"
    echo "- servers: \`--buffer $BUFFER\`, a $BUFFER-byte buffer per connection (Corium, tokio, smol); the raw epoll loop keeps none (one shared 16 KiB read buffer; a connection is a slot of an fd and an empty Vec)"
    echo "- Corium's \`echo\` example also keeps what its graceful shutdown needs per connection (examples/common/shutdown.rs: an entry in a \`JoinSet\` and a child \`CancellationToken\` waited on between requests); the tokio and smol servers spawn a detached task and keep neither"
    echo "- memory: the server's VmRSS (and RssAnon) from /proc/PID/status ${SETTLE} s after it printed \`listening on\` and ${SETTLE} s after all $CONNS connections were established; KB/connection = (after - before) / $CONNS, 1 KB = 1024 bytes"
    echo "- cells: median (min..max) over the rounds; ratios are of medians"
    report_notes
    echo
    echo "### $CONNS idle connections, $BUFFER-byte buffer per connection"
    echo
    echo "| server | KB/connection (VmRSS) | KB/connection (RssAnon) | RSS before MB | RSS after MB | vs tokio | vs raw epoll |"
    echo "|---|---|---|---|---|---|---|"
    for server in "${ACTIVE[@]}"; do
        echo "| $(label_of "$server") | $(cell "$server" "$BENCH" 4 3) | $(cell "$server" "$BENCH" 6 3) | $(cell "$server" "$BENCH" 7 1) | $(cell "$server" "$BENCH" 5 1) | $(ratio "$server" tokio "$BENCH" 4) | $(ratio "$server" epoll "$BENCH" 4) |"
    done
    echo
    echo "This is user-space memory as the process's resident set sees it: what the"
    echo "runtime, the task and the buffer of a connection cost. The kernel's side of a"
    echo "connection (socket, TCP state, buffers, epoll entry, file table) is not in RSS"
    echo "and is the same for every server. \"vs tokio\" is against tokio current_thread"
    echo "(BENCHMARKS.md's goal: Corium at most 0.5x); \"vs raw epoll\" against the raw"
    echo "loop, whose per-connection state is a slab slot."
    has tokio || echo "(tokio was not measured in this run: the \"vs tokio\" column is n/a.)"
    has epoll || echo "(the raw epoll loop was not measured in this run: the \"vs raw epoll\" column is n/a.)"
} >"$REPORT"

cat "$REPORT"
cp "$REPORT" "$OUT"
say "wrote $OUT"

for server in "${ACTIVE[@]}"; do
    tsv_summary idle "$BENCH" "$server" kb_per_conn 4
    tsv_summary idle "$BENCH" "$server" rss_after_mb 5
done
[[ -z ${TSV:-} ]] || say "appended to $TSV"
