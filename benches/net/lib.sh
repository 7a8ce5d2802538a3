# Shared by benches/net/echo.sh and benches/net/app.sh: logging, the
# cleanup of every process a run started, the server order of a round, and
# the median/min/max arithmetic of the report. Sourced, not run; the
# caller sets WORK_PREFIX before sourcing, and RESULTS and ACTIVE before
# using the report helpers.

say() { printf '%s\n' "$*" >&2; }

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

# rotate_order ROUND: sets ORDER to ACTIVE rotated by ROUND - 1, so no
# server always runs first (right after the build, on a cold cache) or last.
rotate_order() {
    local round=$1 n=${#ACTIVE[@]} i
    ORDER=()
    for ((i = 0; i < n; i++)); do
        ORDER+=("${ACTIVE[$(((i + round - 1) % n))]}")
    done
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
