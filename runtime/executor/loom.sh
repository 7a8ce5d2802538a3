#!/bin/sh
# Model-checks corium-executor's lock-free protocols with loom: the task
# state word (task/state.rs), the multi-thread run queue
# (scheduler/multi_thread/queue.rs) and the idle protocol
# (scheduler/multi_thread/idle.rs). The models sit beside the code, in
# `mod loom_tests`, and run only under `--cfg loom`.
#
#   runtime/executor/loom.sh                     # all models
#   runtime/executor/loom.sh state::loom_tests   # models whose path matches
#
# Environment:
#   LOOM_MAX_PREEMPTIONS=N  bound every model at N preemptions (default:
#                           each model's own bound: exhaustive where that
#                           takes seconds, else 3 to 5)
#   LOOM_LOG=1, LOOM_LOCATION=1  loom's own debugging output, for a
#                           failing model (run it alone: loom.sh NAME)
#   CARGO_TARGET_DIR        defaults to target/loom-executor, apart from the
#                           normal build (--cfg loom rebuilds every
#                           dependency)
set -eu

cd "$(dirname "$0")"

export RUSTFLAGS="${RUSTFLAGS:-} --cfg loom"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/loom-executor}"

# Without a name, `loom_tests` picks every model out of the library's unit
# tests (libtest runs what matches any one name, so a name given replaces it).
[ $# -gt 0 ] || set -- loom_tests

start=$(date +%s)
status=0
cargo test -p corium-executor --lib --release -- --nocapture "$@" || status=$?
echo "loom models of corium-executor: $(($(date +%s) - start)) s" >&2
exit "$status"
