#!/bin/sh
# Model-checks corium-sync's lock-free protocols with loom: the waiter list
# via Notify, the oneshot channel, the semaphore, broadcast, watch and the
# cancellation token's wait
# (tests/loom_*.rs).
#
#   runtime/sync/loom.sh                 # all models
#   runtime/sync/loom.sh notify_waiters  # models whose name matches
#
# Environment:
#   LOOM_MAX_PREEMPTIONS=N  bound every model at N preemptions (default:
#                           two-thread models exhaustive, three-thread ones 3)
#   LOOM_LOG=1, LOOM_LOCATION=1  loom's own debugging output, for a
#                           failing model (run it alone: loom.sh NAME)
#   CARGO_TARGET_DIR        defaults to target/loom, apart from the normal
#                           build (--cfg loom rebuilds every dependency)
#
# A lost wakeup shows as loom's "deadlock; threads = [...]" panic. loom then
# panics again while unwinding and the test binary aborts (SIGABRT), so the
# other models of that file are not reported: fix it, or rerun with a name.
set -eu

cd "$(dirname "$0")"

export RUSTFLAGS="${RUSTFLAGS:-} --cfg loom"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/loom}"

exec cargo test -p corium-sync --release \
    --test loom_notify --test loom_oneshot --test loom_semaphore \
    --test loom_broadcast --test loom_watch --test loom_cancellation \
    -- --nocapture "$@"
