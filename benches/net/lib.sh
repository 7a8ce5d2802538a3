# shellcheck shell=bash disable=SC2034,SC2153 # sets and reads the callers' variables
# Shared by benches/net/echo.sh, app.sh and idle.sh (and, for logging and
# tools, benches/suite.sh): logging, the command line a report shows, the
# cleanup of every process a run started, starting and stopping a server,
# the server order of a round, and the header and median/min/max arithmetic
# of the report. Sourced, not run; the caller sets WORK_PREFIX before
# sourcing, and BIN, NOTES, ACTIVE and RESULTS before using the helpers
# that read them, and defines label_of SERVER (a server's row label).

say() { printf '%s\n' "$*" >&2; }

# command_with_settings SCRIPT VAR...: sets COMMAND to the exact command,
# SCRIPT (as run from the workspace) after those of the VARs the
# environment sets, that is the settings that differ from the defaults
# (quoted when they hold white space). Call it before filling in defaults.
command_with_settings() {
    local script=$1 var value
    shift
    COMMAND=""
    for var in "$@"; do
        if [[ -n "${!var+set}" ]]; then
            value=${!var}
            [[ "$value" =~ [[:space:]] ]] && value="\"$value\""
            COMMAND+="$var=$value "
        fi
    done
    COMMAND+=$script
}

# ---------------------------------------------------------------- cleanup

WORK=$(mktemp -d "/tmp/${WORK_PREFIX:-corium-bench}.XXXXXX")
STARTED_PIDS=()

cleanup() {
    local pid
    for pid in "${STARTED_PIDS[@]+"${STARTED_PIDS[@]}"}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${STARTED_PIDS[@]+"${STARTED_PIDS[@]}"}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Forgets `pid` (it has been waited for).
forget() {
    local pid=$1 kept=() p
    for p in "${STARTED_PIDS[@]+"${STARTED_PIDS[@]}"}"; do
        [[ "$p" == "$pid" ]] || kept+=("$p")
    done
    STARTED_PIDS=("${kept[@]+"${kept[@]}"}")
}

# stop PID: SIGTERM, wait, forget.
stop() {
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    forget "$1"
}

# ---------------------------------------------------------------- servers

# The `runtime: ...` line each Corium flavor printed, e.g. `multi_thread
# (2 workers)`, to show in the report which runtime was measured.
declare -A RUNTIME_LINE=()

# start_server [--port PORT] NAME PLACEMENT COMMAND...: starts the server
# NAME, running COMMAND (pinned to CPU 0 when PLACEMENT is `pinned`), and
# waits up to 10 s for it to come up: to print `listening on ADDR`, or, with
# --port (a server that cannot be given port 0, and so prints no such
# line), to accept a connection on PORT. Sets SERVER_PID and SERVER_ADDR,
# and for a Corium example (NAME corium*) its RUNTIME_LINE. Returns 1, the
# server stopped, if it does not come up.
start_server() {
    local port="" out=$WORK/server.out err cmd i
    if [[ $1 == --port ]]; then
        port=$2
        shift 2
    fi
    local name=$1 placement=$2
    shift 2
    err=$WORK/server.$name.err
    cmd=("$@")
    if [[ $placement == pinned ]]; then
        cmd=("${SERVER_PIN[@]+"${SERVER_PIN[@]}"}" "${cmd[@]}")
    fi
    : >"$out"
    # (taskset execs the server: $! is the server's pid.)
    "${cmd[@]}" >"$out" 2>"$err" &
    SERVER_PID=$!
    STARTED_PIDS+=("$SERVER_PID")
    for ((i = 0; i < 100; i++)); do
        if server_is_up "$port" "$out"; then
            [[ $name != corium* ]] || note_runtime "$name" "$out"
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -n $port ]]; then
        say "$name: did not come up within 10 s: $(tail -n 3 "$err")"
    else
        say "$name: did not print 'listening on' within 10 s: $(tail -n 3 "$err")"
    fi
    stop_server
    return 1
}

# server_is_up PORT OUT: whether the server has come up (see start_server:
# PORT accepts a connection or, PORT empty, OUT holds `listening on ADDR`);
# sets SERVER_ADDR.
server_is_up() {
    if [[ -n $1 ]]; then
        SERVER_ADDR=127.0.0.1:$1
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    else
        SERVER_ADDR=$(sed -n 's/^listening on //p' "$2")
        [[ -n $SERVER_ADDR ]]
    fi
}

# note_runtime SERVER OUT: records the `runtime:` line a Corium example
# prints right after `listening on` (waiting up to 1 s for it).
note_runtime() {
    local line="" i
    for ((i = 0; i < 10; i++)); do
        line=$(sed -n 's/^runtime: //p' "$2")
        [[ -z $line ]] || break
        sleep 0.1
    done
    RUNTIME_LINE[$1]=${line:-"(no runtime line)"}
}

# stop_server: stops the server start_server started.
stop_server() { stop "$SERVER_PID"; }

# is_built SERVER PROGRAM: whether PROGRAM, the server's executable, is
# built; if not, says so and notes that SERVER is skipped (label_of is the
# caller's).
is_built() {
    [[ ! -x $2 ]] || return 0
    NOTES+=("$(label_of "$1"): skipped, $2 is not built.")
    say "$1: $2 is not built; skipped"
    return 1
}

# require_loadgen_and_servers: exits unless the load generator
# ($BIN/loadgen) is built and ACTIVE holds a server to measure.
require_loadgen_and_servers() {
    if [[ ! -x "$BIN/loadgen" ]]; then
        say "no load generator at $BIN/loadgen (build: cargo build --release -p corium-benches --bins)"
        exit 1
    fi
    if [[ ${#ACTIVE[@]} -eq 0 ]]; then
        say "no server to measure"
        exit 1
    fi
}

# json_get KEY FILE: the number stored under KEY in loadgen's JSON line.
json_get() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$2"; }

# rotate_order ROUND: sets ORDER to ACTIVE rotated by ROUND - 1, so no
# server always runs first (right after the build, on a cold cache) or last.
rotate_order() {
    local round=$1 n=${#ACTIVE[@]} i
    ORDER=()
    for ((i = 0; i < n; i++)); do
        ORDER+=("${ACTIVE[$(((i + round - 1) % n))]}")
    done
}

# ---------------------------------------------------------------- the echo servers

# The echo servers that echo.sh and idle.sh measure, by name: what the
# reports call them (echo_label_of) and how they are started
# (echo_command_of, which fails for an unknown name).
echo_label_of() {
    case $1 in
        corium) echo "Corium current-thread (examples/echo)" ;;
        corium-mt) echo "Corium multi-thread, 2 workers (examples/echo; default: one shared reactor)" ;;
        corium-shared-mt) echo "Corium multi-thread, 2 workers, one shared reactor" ;;
        corium-pw-mt) echo "Corium multi-thread, 2 workers, a reactor per worker" ;;
        corium-plain-mt) echo "Corium multi-thread, 2 workers, echo-tokio's program (echo-corium: no graceful shutdown)" ;;
        epoll) echo "raw epoll loop (the limit)" ;;
        polling) echo "raw loop on polling::Poller::wait" ;;
        tokio) echo "tokio current_thread" ;;
        smol) echo "smol (async-executor + async-io)" ;;
        tokio-mt) echo "tokio multi_thread, 2 workers" ;;
        smol-mt) echo "smol, 2 executor threads" ;;
        *) echo "$1" ;;
    esac
}

# echo_command_of SERVER: the server's command line (without pinning). The
# examples pick their runtime from the environment without --flavor
# (multi-thread, one worker per core, if nothing is set), so Corium's flavor
# is always explicit.
echo_command_of() {
    case $1 in
        corium) echo "$BIN/examples/echo --addr 127.0.0.1:0 --flavor current" ;;
        corium-mt) echo "$BIN/examples/echo --addr 127.0.0.1:0 --flavor multi --workers 2" ;;
        corium-shared-mt) echo "env CORIUM_REACTOR_TOPOLOGY=shared $BIN/examples/echo --addr 127.0.0.1:0 --flavor multi --workers 2" ;;
        corium-pw-mt) echo "env CORIUM_REACTOR_TOPOLOGY=per_worker $BIN/examples/echo --addr 127.0.0.1:0 --flavor multi --workers 2" ;;
        corium-plain-mt) echo "$BIN/echo-corium --addr 127.0.0.1:0 --workers 2" ;;
        epoll) echo "$BIN/echo-epoll --addr 127.0.0.1:0" ;;
        polling) echo "$BIN/echo-polling --addr 127.0.0.1:0" ;;
        tokio) echo "$BIN/echo-tokio --addr 127.0.0.1:0" ;;
        smol) echo "$BIN/echo-smol --addr 127.0.0.1:0" ;;
        tokio-mt) echo "$BIN/echo-tokio --addr 127.0.0.1:0 --workers 2" ;;
        smol-mt) echo "$BIN/echo-smol --addr 127.0.0.1:0 --workers 2" ;;
        *) return 1 ;;
    esac
}

# ---------------------------------------------------------------- tools

# install_missing COMMAND:PACKAGE...: installs with apt-get the Debian
# package of every COMMAND not on the PATH, when that is possible (root or
# password-less sudo, and NO_INSTALL unset); says what it could not. The
# caller checks the commands again afterwards and skips what is missing.
install_missing() {
    local pair missing=() sudo=()
    PATH=$PATH:/usr/sbin:/sbin # nginx and friends live there
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
    done
    [[ ${#missing[@]} -gt 0 ]] || return 0
    if [[ ${NO_INSTALL:-0} == 1 ]]; then
        say "missing ${missing[*]} (NO_INSTALL=1: not installing)"
        return 0
    fi
    [[ $(id -u) == 0 ]] || sudo=(sudo -n)
    if ! command -v apt-get >/dev/null || { [[ ${#sudo[@]} -gt 0 ]] && ! sudo -n true 2>/dev/null; }; then
        say "missing ${missing[*]} and cannot run apt-get here (not root, no password-less sudo, or no apt)"
        return 0
    fi
    say "== installing ${missing[*]} (apt-get)"
    local apt=("${sudo[@]+"${sudo[@]}"}" env DEBIAN_FRONTEND=noninteractive apt-get)
    if ! "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >"$WORK/apt.log" 2>&1; then
        # A stale package index is the usual reason: refresh it once.
        "${apt[@]}" update >>"$WORK/apt.log" 2>&1 || true
        "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >>"$WORK/apt.log" 2>&1 ||
            say "apt-get install ${missing[*]} failed: $(tail -n 2 "$WORK/apt.log")"
    fi
}

# ---------------------------------------------------------------- pinning and perf

# detect_pinning WHAT: sets SERVER_PIN and LOAD_PIN (taskset prefixes: CPU 0
# for the server, CPU 1 for the load generator) and PINNING, the report's
# line: WHAT when pinning works, else why not (also added to NOTES).
detect_pinning() {
    NPROC=$(nproc)
    SERVER_PIN=()
    LOAD_PIN=()
    if [[ $NPROC -ge 2 ]] && command -v taskset >/dev/null; then
        SERVER_PIN=(taskset -c 0)
        LOAD_PIN=(taskset -c 1)
        PINNING=$1
    else
        PINNING="nothing pinned ($NPROC CPU(s)$(command -v taskset >/dev/null || echo ', no taskset'))"
        NOTES+=("Not pinned: $PINNING; server and load generator share the CPUs, so CPU per request is the figure to read.")
    fi
}

# detect_perf: sets PERF_EVENTS (what `perf stat -e` can count here: both
# task-clock and raw_syscalls:sys_enter, task-clock alone, or nothing) and
# PERF_WHY, the report's line saying which and, when not both, why.
detect_perf() {
    local paranoid
    paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo "?")
    PERF_EVENTS=""
    if ! command -v perf >/dev/null; then
        PERF_WHY="perf is not installed (linux-perf / linux-tools): no server CPU time or syscall counts"
    elif perf stat -x, -o /dev/null -e task-clock,raw_syscalls:sys_enter true 2>/dev/null; then
        PERF_EVENTS=task-clock,raw_syscalls:sys_enter
        PERF_WHY="\`perf stat -x, -e task-clock,raw_syscalls:sys_enter -p <server pid>\`"
    elif perf stat -x, -o /dev/null -e task-clock true 2>/dev/null; then
        PERF_EVENTS=task-clock
        PERF_WHY="\`perf stat -e task-clock -p <server pid>\` only: the raw_syscalls:sys_enter tracepoint is unavailable (kernel.perf_event_paranoid=$paranoid, uid $(id -u); it needs root or paranoid -1, and a mounted tracefs): no syscall counts"
    else
        PERF_WHY="perf stat does not work here (kernel.perf_event_paranoid=$paranoid, uid $(id -u)): no server CPU time or syscall counts"
    fi
}

# ---------------------------------------------------------------- the report

# report_header TITLE: the report's title, its command and the lines every
# report opens with: date, machine, rounds (COMMAND, LOAD_BEFORE,
# LOAD_AFTER and ELAPSED are the caller's).
report_header() {
    local cpu_model
    cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    echo "# $1"
    echo
    echo "Command: \`$COMMAND\`"
    echo
    echo "- date: $(date -u)"
    echo "- machine: $NPROC CPUs (nproc), ${cpu_model:-unknown CPU}, kernel $(uname -r); load average before: $LOAD_BEFORE, after: $LOAD_AFTER"
    echo "- $ROUNDS round(s), interleaved with the order rotated each round ($(printf '%s, ' "${ACTIVE[@]}" | sed 's/, $//')), a fresh server process per server and round; took ${ELAPSED} s"
}

# report_notes: the report's lines for the `runtime:` line each Corium
# example printed (RUNTIME_LINE) and for each of NOTES.
report_notes() {
    local server note
    for server in "${!RUNTIME_LINE[@]}"; do
        echo "- $(label_of "$server") printed \`runtime: ${RUNTIME_LINE[$server]}\`"
    done
    for note in "${NOTES[@]+"${NOTES[@]}"}"; do
        echo "- $note"
    done
}

# summary SERVER BENCH COLUMN: "median min max" of a column of $RESULTS over
# the rounds, or NA.
summary() {
    awk -F'\t' -v s="$1" -v b="$2" -v c="$3" '$1 == s && $2 == b && $c != "NA" { print $c }' "$RESULTS" |
        sort -g |
        awk '{ a[NR] = $1 } END {
            if (NR == 0) { print "NA"; exit }
            m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
            print m, a[1], a[NR]
        }'
}

# cell SERVER BENCH COLUMN DECIMALS: "median (min..max)", or the median alone
# when every round agrees; "n/a" without data.
cell() {
    summary "$1" "$2" "$3" | awk -v d="$4" '{
        if ($1 == "NA") { print "n/a"; exit }
        m = sprintf("%." d "f", $1); lo = sprintf("%." d "f", $2); hi = sprintf("%." d "f", $3)
        if (lo == hi) print m; else print m " (" lo ".." hi ")"
    }'
}

# ratio SERVER REF BENCH COLUMN: median(SERVER) / median(REF), or "n/a".
ratio() {
    local a b
    a=$(summary "$1" "$3" "$4" | cut -d' ' -f1)
    b=$(summary "$2" "$3" "$4" | cut -d' ' -f1)
    awk -v a="$a" -v b="$b" 'BEGIN { if (a == "NA" || b == "NA" || b + 0 == 0) print "n/a"; else printf "%.2fx", a / b }'
}

has() { [[ " ${ACTIVE[*]} " == *" $1 "* ]]; }

# ---------------------------------------------------------------- machine-readable output

# tsv_summary SECTION BENCH KEY METRIC COLUMN: when $TSV names a file,
# appends to it the summary of COLUMN of $RESULTS for KEY and BENCH as one
# line of the suite's format (benches/src/tsv.rs), tab-separated, no header:
#   SECTION BENCH KEY METRIC median min max rounds
# Nothing when $TSV is unset or the column has no data.
tsv_summary() {
    [[ -n ${TSV:-} ]] || return 0
    local values rounds
    values=$(summary "$3" "$2" "$5")
    [[ $values != NA ]] || return 0
    rounds=$(awk -F'\t' -v s="$3" -v b="$2" -v c="$5" '$1 == s && $2 == b && $c != "NA"' "$RESULTS" | wc -l)
    # shellcheck disable=SC2086 # $values is "median min max"
    tsv_row "$1" "$2" "$3" "$4" $values "$rounds"
}

# tsv_row SECTION BENCH KEY METRIC MEDIAN MIN MAX ROUNDS: appends that line
# to $TSV, the numbers written plainly (no exponent, `.` as the point).
tsv_row() {
    LC_ALL=C awk -v OFS='\t' 'BEGIN {
        for (i = 5; i <= 7; i++) {
            v = sprintf("%.6f", ARGV[i]); sub(/\.?0+$/, "", v); ARGV[i] = v
        }
        print ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8] + 0
    }' "$@" >>"$TSV"
}
