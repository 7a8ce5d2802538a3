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
