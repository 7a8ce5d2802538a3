#!/usr/bin/env bash
# Corium's whole benchmark suite, one command (shared BENCHMARKS.md):
#
#   benches/suite.sh            the full run: about 20 minutes on 2 cores
#   benches/suite.sh --quick    a smoke run: under 4 minutes, a cold build included
#
# It installs what the network runs need and is missing (perf, wrk,
# redis-server/redis-benchmark, nginx: Debian packages, with apt-get, when
# that is possible here), builds every binary once (release), then runs, in
# this order:
#   1. micro and sync: `corium-benches` (Corium current-thread and
#      multi-thread, tokio current_thread and multi_thread, smol; the sync
#      suite beside tokio::sync, async-channel and async-lock)
#   2. net: benches/net/echo.sh (echo 1 and 50 connections, echo-stream,
#      accept-churn; Corium, tokio, smol, the raw epoll loop and the loop on
#      polling::Poller::wait, pinned; the 2-worker run unpinned)
#   3. app: benches/net/app.sh (http_hello under wrk beside tokio, nginx and
#      the raw epoll loop; mini_redis under redis-benchmark beside tokio and
#      redis-server)
#   4. idle: benches/net/idle.sh (resident memory per idle connection at
#      10,000 connections)
# and turns what they measured into benches/RESULTS.md (every figure, every
# ratio, the goals of BENCHMARKS.md met or missed) and benches/results.svg
# (the ratios as a bar chart), with `suite-report`. Each part also leaves
# its own report (benches/MICRO.md, SYNC.md, NET.md, APP.md, IDLE.md).
#
# A --quick run measures less, once, and writes its reports under
# target/bench-quick/ only: its figures are a smoke check, not results.
#
# Environment: CARGO_TARGET_DIR [<workspace>/target], NO_INSTALL [0]
# (1: never apt-get), ROUNDS [5; --quick: 1] (rounds of the network parts),
# ROUNDS_MICRO [7; --quick: ROUNDS] (rounds of micro and sync), PARTS
# ["micro net app idle"] (a subset, for a re-run).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QUICK=0
for arg in "$@"; do
    case $arg in
        --quick) QUICK=1 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "suite.sh: unexpected argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
export CARGO_TARGET_DIR=$TARGET_DIR
# The exact command, with the settings that differ from the defaults.
COMMAND="benches/suite.sh"
[[ $QUICK == 0 ]] || COMMAND+=" --quick"
for var in PARTS ROUNDS_MICRO ROUNDS; do
    [[ -z ${!var+set} ]] || COMMAND="$var=\"${!var}\" $COMMAND"
done
PARTS=${PARTS:-micro net app idle}

if [[ $QUICK == 1 ]]; then
    RESULTS_DIR=$TARGET_DIR/bench-quick
    ROUNDS=${ROUNDS:-1}
    MICRO_ROUNDS=${ROUNDS}
else
    RESULTS_DIR=$TARGET_DIR/bench-results
    ROUNDS=${ROUNDS:-5}
    MICRO_ROUNDS=${ROUNDS_MICRO:-7}
fi
rm -rf "$RESULTS_DIR"
mkdir -p "$RESULTS_DIR"
export TSV=$RESULTS_DIR/results.tsv
: >"$TSV"

WORK_PREFIX=corium-suite
# shellcheck source=benches/net/lib.sh
source "$ROOT/benches/net/lib.sh"

START=$(date +%s)
TOTAL=$(wc -w <<<"$PARTS")
STEP=0
part() {
    STEP=$((STEP + 1))
    say ""
    say "######## [$STEP/$TOTAL] $* (elapsed $(($(date +%s) - START)) s)"
}

# ---------------------------------------------------------------- tools and build

install_missing perf:linux-perf taskset:util-linux wrk:wrk \
    redis-server:redis-server redis-benchmark:redis-tools nginx:nginx-light

say "== building (release): corium-benches and the examples"
(cd "$ROOT" && cargo build --release --quiet -p corium-benches --bins &&
    cargo build --release --quiet --examples)
BIN=$TARGET_DIR/release

META=$RESULTS_DIR/meta.txt
{
    echo "command: $COMMAND"
    echo "date: $(date -u)"
    echo "machine: $(nproc) CPUs (nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r)"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "rounds: $ROUNDS per network part, $MICRO_ROUNDS for micro and sync$([[ $QUICK == 1 ]] && echo ' (--quick: less work per round; a smoke check, not results)')"
} >"$META"

# ---------------------------------------------------------------- the parts

# net_part SCRIPT REPORT [SETTING...]: runs benches/net/SCRIPT on what is
# built, $ROUNDS rounds, its report to $RESULTS_DIR/REPORT; a --quick run
# adds the SETTINGs (VAR=VALUE: less work per round).
net_part() {
    local script=$1 report=$2 quick=()
    shift 2
    [[ $QUICK == 0 ]] || quick=("$@")
    env ROUNDS="$ROUNDS" "${quick[@]+"${quick[@]}"}" NO_BUILD=1 OUT="$RESULTS_DIR/$report" \
        "$ROOT/benches/net/$script" >/dev/null
}

for name in $PARTS; do
    case $name in
        micro)
            part "micro and sync: corium-benches, $MICRO_ROUNDS rounds"
            args=(--rounds "$MICRO_ROUNDS" --tsv "$TSV" --out-dir "$RESULTS_DIR")
            [[ $QUICK == 0 ]] || args+=(--quick)
            "$BIN/corium-benches" "${args[@]}" >/dev/null
            ;;
        net)
            part "net: benches/net/echo.sh, $ROUNDS rounds"
            net_part echo.sh NET.md DURATION=2 WARMUP=0.5 STREAM_DURATION=1 CHURN=2000
            ;;
        app)
            part "app: benches/net/app.sh, $ROUNDS rounds"
            net_part app.sh APP.md DURATION=3 N=20000 "TESTS=ping_inline get"
            ;;
        idle)
            part "idle: benches/net/idle.sh, $ROUNDS rounds"
            net_part idle.sh IDLE.md
            ;;
        *) say "unknown part '$name' (known: micro net app idle)"; exit 2 ;;
    esac
done

# ---------------------------------------------------------------- the report

ELAPSED=$(($(date +%s) - START))
{
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "took: $ELAPSED s"
} >>"$META"
if [[ $QUICK == 1 ]]; then
    MD=$RESULTS_DIR/RESULTS.md
    SVG=$RESULTS_DIR/results.svg
else
    MD=$ROOT/benches/RESULTS.md
    SVG=$ROOT/benches/results.svg
    for report in MICRO SYNC NET APP IDLE; do
        [[ ! -f $RESULTS_DIR/$report.md ]] || cp "$RESULTS_DIR/$report.md" "$ROOT/benches/$report.md"
    done
fi
"$BIN/suite-report" --results "$RESULTS_DIR" --md "$MD" --svg "$SVG"
say ""
say "wrote $MD and $SVG in $ELAPSED s"
