//! `corium::select!`: which branch wins (random start, `biased;`), what
//! disables a branch (a guard, a pattern that does not match), `else` and
//! the panic without it, losers dropped before the handler runs, handlers
//! as the caller's own code (`break`, `continue`, `?`, borrows), and a
//! receiver raced against a real timer on every flavor.

mod util;

use std::cell::{Cell, RefCell};
use std::future::{pending, ready, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use corium::sync::{mpsc, oneshot};
use corium::task::yield_now;
use corium::time::{sleep, timeout};
use util::{build, expect_panic, for_each_flavor_within, rt, run, Deferred, DropCounter};

/// Longest any test may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(30);

/// Runs `future` on a fresh current-thread runtime, failing after
/// [`LIMIT`].
fn block_on<F: Future>(future: F) -> F::Output {
    run(
        rt(),
        async move { timeout(LIMIT, future).await.expect("hung") },
    )
}

// ----- which branch wins -----

#[test]
fn two_ready_branches_each_win_some_of_the_time() {
    let mut wins = [0u32; 2];
    block_on(async {
        for _ in 0..200 {
            let winner = corium::select! {
                _ = ready(()) => 0,
                _ = ready(()) => 1,
            };
            wins[winner] += 1;
        }
    });
    assert!(
        wins[0] > 0 && wins[1] > 0,
        "one branch always won: {wins:?}"
    );
}

#[test]
fn every_one_of_four_ready_branches_wins_some_of_the_time() {
    let mut wins = [0u32; 4];
    block_on(async {
        for _ in 0..400 {
            let winner = corium::select! {
                () = ready(()) => 0,
                () = ready(()) => 1,
                () = ready(()) => 2,
                () = ready(()) => 3,
            };
            wins[winner] += 1;
        }
    });
    assert!(wins.iter().all(|&w| w > 0), "a branch never won: {wins:?}");
}

#[test]
fn biased_always_picks_the_first_ready_branch() {
    block_on(async {
        for _ in 0..200 {
            let winner = corium::select! {
                biased;
                _ = pending::<()>() => 0,
                _ = ready(()) => 1,
                _ = ready(()) => 2,
            };
            assert_eq!(winner, 1);
        }
    });
}

#[test]
fn biased_polls_the_branches_in_declared_order() {
    let polled = RefCell::new(Vec::new());
    let probe = |branch: u32| {
        let polled = &polled;
        std::future::poll_fn(move |_| {
            polled.borrow_mut().push(branch);
            Poll::<()>::Pending
        })
    };
    block_on(async {
        corium::select! {
            biased;
            _ = probe(0) => {}
            _ = probe(1) => {}
            _ = probe(2) => {}
            _ = ready(()) => {}
        }
    });
    assert_eq!(*polled.borrow(), [0, 1, 2]);
}

#[test]
fn the_value_of_the_select_is_the_winning_handlers() {
    let (a, b) = block_on(async {
        let a = corium::select! {
            n = ready(20) => n * 2 + 2,
        };
        let b: &str = corium::select! {
            biased;
            s = ready("first") => { s }
            _ = ready(()) => "second"
        };
        (a, b)
    });
    assert_eq!((a, b), (42, "first"));
}

// ----- cancellation -----

#[test]
fn losing_futures_are_dropped_before_the_handler_runs() {
    let dropped = DropCounter::new();
    block_on(async {
        let (loser_a, loser_b) = (dropped.probe(), dropped.probe());
        corium::select! {
            _ = async move { let _held = loser_a; pending::<()>().await } => unreachable!(),
            _ = async move { let _held = loser_b; pending::<()>().await } => unreachable!(),
            _ = async { yield_now().await } => {
                assert_eq!(dropped.count(), 2, "a loser was still alive in the handler");
            }
        }
    });
}

#[test]
fn dropping_a_pending_select_drops_its_futures() {
    let dropped = DropCounter::new();
    block_on(async {
        let probe = dropped.probe();
        let select = async {
            corium::select! {
                _ = async move { let _held = probe; pending::<()>().await } => {}
            }
        };
        let result = timeout(Duration::from_millis(5), select).await;
        assert!(result.is_err(), "the select finished on its own");
    });
    assert_eq!(dropped.count(), 1);
}

// ----- disabled branches -----

#[test]
fn a_pattern_that_does_not_match_disables_its_branch() {
    let winner = block_on(async {
        corium::select! {
            biased;
            // `ready` panics if polled again once done: the branch must be
            // disabled, not polled a second time.
            Some(n) = ready(None::<u32>) => n,
            n = async { yield_now().await; 7 } => n,
        }
    });
    assert_eq!(winner, 7);
}

#[test]
fn a_pattern_that_does_not_match_lets_the_other_branch_win_unbiased() {
    block_on(async {
        for _ in 0..50 {
            let (tx, rx) = oneshot::channel::<u32>();
            drop(tx);
            let winner = corium::select! {
                Ok(n) = rx => n,
                n = async { yield_now().await; 7 } => n,
            };
            assert_eq!(winner, 7);
        }
    });
}

#[test]
fn a_false_guard_disables_its_branch() {
    let winner = block_on(async {
        let enabled = false;
        corium::select! {
            biased;
            n = ready(1), if enabled => n,
            n = ready(2), if !enabled => n,
        }
    });
    assert_eq!(winner, 2);
}

#[test]
fn guards_come_first_then_every_future_expression_in_order() {
    let order = RefCell::new(Vec::new());
    let note = |what: &'static str| order.borrow_mut().push(what);
    let future = |what| {
        note(what);
        ready(())
    };
    block_on(async {
        corium::select! {
            biased;
            _ = future("future 0"), if { note("guard 0"); false } => {}
            _ = future("future 1") => {}
            _ = future("future 2"), if { note("guard 2"); true } => {}
        }
    });
    let expected = ["guard 0", "guard 2", "future 0", "future 1", "future 2"];
    assert_eq!(*order.borrow(), expected);
}

#[test]
fn else_runs_when_every_branch_is_disabled() {
    block_on(async {
        let by_guards = corium::select! {
            _ = ready(()), if false => "branch",
            _ = pending::<()>(), if false => "branch",
            else => "else",
        };
        assert_eq!(by_guards, "else");

        let by_patterns = corium::select! {
            Some(n) = ready(None::<u32>) => n,
            Ok(n) = ready(Err::<u32, ()>(())) => n,
            else => 0,
        };
        assert_eq!(by_patterns, 0);

        let alone = corium::select! { else => 5 };
        assert_eq!(alone, 5);
    });
}

#[test]
fn else_does_not_run_while_a_branch_is_enabled() {
    let winner = block_on(async {
        corium::select! {
            _ = ready(()), if false => "guarded",
            n = async { yield_now().await; "enabled" } => n,
            else => "else",
        }
    });
    assert_eq!(winner, "enabled");
}

#[test]
fn every_branch_disabled_without_else_panics_with_tokios_message() {
    let message = expect_panic(|| {
        block_on(async {
            corium::select! {
                Some(n) = ready(None::<u32>) => n,
                n = ready(1), if false => n,
            }
        })
    });
    assert_eq!(
        message,
        "all branches are disabled and there is no else branch"
    );
}

// ----- handlers are the caller's code -----

#[test]
fn break_and_continue_in_handlers_act_on_the_callers_loop() {
    let seen = block_on(async {
        let (tx, mut rx) = mpsc::channel::<u32>(8);
        for n in 1..=6 {
            tx.send(n).await.unwrap();
        }
        drop(tx);
        let mut seen = Vec::new();
        loop {
            corium::select! {
                Some(n) = rx.recv() => {
                    if n % 2 == 1 {
                        continue;
                    }
                    seen.push(n);
                }
                else => break,
            }
        }
        seen
    });
    assert_eq!(seen, [2, 4, 6]);
}

#[test]
fn labelled_break_and_continue_reach_the_outer_loop() {
    let visited = block_on(async {
        let mut visited = Vec::new();
        'outer: for round in 0..10 {
            for step in 0..3 {
                corium::select! {
                    () = ready(()), if round == 2 => break 'outer,
                    () = ready(()), if step == 1 => continue 'outer,
                    else => visited.push((round, step)),
                }
            }
        }
        visited
    });
    assert_eq!(visited, [(0, 0), (1, 0)]);
}

async fn total_until_error(values: Vec<Result<u32, String>>) -> Result<u32, String> {
    let mut values = values.into_iter();
    let mut total = 0;
    loop {
        corium::select! {
            Some(value) = ready(values.next()) => total += value?,
            else => return Ok(total),
        }
    }
}

#[test]
fn question_mark_and_return_in_handlers_leave_the_callers_function() {
    let ok = block_on(total_until_error(vec![Ok(1), Ok(2), Ok(3)]));
    assert_eq!(ok, Ok(6));
    let failed = block_on(total_until_error(vec![Ok(1), Err("bad".into()), Ok(3)]));
    assert_eq!(failed, Err("bad".to_string()));
}

#[test]
fn futures_borrow_locals_mutably_and_handlers_use_them_after() {
    let (left, right) = block_on(async {
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for _ in 0..20 {
            corium::select! {
                () = async { left.push('l') } => left.push('L'),
                () = async { right.push('r') } => right.push('R'),
            }
        }
        (left, right)
    });
    // Each round ran the winner's future, then its handler; the loser was
    // never polled.
    assert_eq!(left.len() + right.len(), 2 * 20);
    assert!(left.chunks(2).all(|pair| pair == ['l', 'L']));
    assert!(right.chunks(2).all(|pair| pair == ['r', 'R']));
}

#[test]
fn patterns_bind_by_value_with_mut_and_ref() {
    let (sum, text) = block_on(async {
        let sum = corium::select! {
            (mut a, b) = ready((1, 2)) => {
                a += 10;
                a + b
            }
        };
        let text = corium::select! {
            Some(ref s) = ready(Some(String::from("kept"))) => s.clone(),
            else => String::new(),
        };
        (sum, text)
    });
    assert_eq!((sum, text.as_str()), (13, "kept"));
}

/// A struct to match with field patterns.
struct Point {
    name: String,
    y: u32,
}

const ON_THE_AXIS: u32 = 0;

#[test]
fn reference_struct_and_binding_patterns_test_the_value_without_moving_it() {
    block_on(async {
        let (mut a, b) = (5, 6);
        let by_mut_ref = corium::select! { &mut x = ready(&mut a) => x };
        let by_ref = corium::select! { &x = ready(&b) => x };
        let nested = corium::select! { Some(&x) = ready(Some(&b)) => x, else => 0 };
        assert_eq!((by_mut_ref, by_ref, nested), (5, 6, 6));

        let point = |name: &str, y| {
            ready(Point {
                name: name.into(),
                y,
            })
        };
        let named = corium::select! {
            biased;
            // A constant in a field: refuses `y: 1`.
            Point { name, y: ON_THE_AXIS } = point("a", 1) => name,
            Point { ref name, y: 2 } = point("b", 2) => name.clone() + "!",
            else => String::new(),
        };
        assert_eq!(named, "b!");

        let bound = corium::select! {
            Some(n @ 1..=3) = ready(Some(2)) => n,
            else => 0,
        };
        assert_eq!(bound, 2);
    });
}

#[test]
fn or_patterns_and_ranges_select_on_the_value() {
    let picked = block_on(async {
        corium::select! {
            1 | 2 = ready(3) => "small",
            n @ 3..=9 = ready(3) => if n == 3 { "three" } else { "other" },
            else => "none",
        }
    });
    assert_eq!(picked, "three");
}

#[test]
fn the_callers_variables_keep_their_meaning_inside_the_expansion() {
    // Names the expansion might use for itself.
    let (output, disabled, futures, __corium_output) = (1, 2, 3, 4);
    let seen = block_on(async move {
        corium::select! {
            n = ready(output) => n + disabled + futures + __corium_output,
        }
    });
    assert_eq!(seen, 10);
}

// ----- futures as written -----

/// A future that is `!Unpin` and must not be polled after completing.
struct OnceOnly {
    done: bool,
    _pinned: std::marker::PhantomPinned,
}

impl Future for OnceOnly {
    type Output = &'static str;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<&'static str> {
        // SAFETY: only a `bool` is written; nothing is moved.
        let this = unsafe { self.get_unchecked_mut() };
        assert!(!this.done, "polled after completion");
        this.done = true;
        Poll::Ready("once")
    }
}

#[test]
fn futures_need_be_neither_unpin_nor_fused_and_into_future_is_enough() {
    let (first, second) = block_on(async {
        let unpinned = OnceOnly {
            done: false,
            _pinned: std::marker::PhantomPinned,
        };
        let first = corium::select! {
            s = unpinned => s,
        };
        let second = corium::select! {
            biased;
            n = Deferred(9) => n,
            _ = ready(()) => 0,
        };
        (first, second)
    });
    assert_eq!((first, second), ("once", 9));
}

#[test]
fn a_future_that_completes_after_a_mismatch_is_not_polled_again() {
    let polls = Cell::new(0);
    let winner = block_on(async {
        corium::select! {
            biased;
            Some(()) = async { polls.set(polls.get() + 1); None } => "mismatch",
            () = async { for _ in 0..3 { yield_now().await } } => "yielder",
        }
    });
    assert_eq!((winner, polls.get()), ("yielder", 1));
}

#[rustfmt::skip]
#[test]
fn sixty_four_branches_are_enough() {
    let winner = block_on(async {
        corium::select! {
            biased;
            _ = pending::<()>() => 0, _ = pending::<()>() => 1, _ = pending::<()>() => 2,
            _ = pending::<()>() => 3, _ = pending::<()>() => 4, _ = pending::<()>() => 5,
            _ = pending::<()>() => 6, _ = pending::<()>() => 7, _ = pending::<()>() => 8,
            _ = pending::<()>() => 9, _ = pending::<()>() => 10, _ = pending::<()>() => 11,
            _ = pending::<()>() => 12, _ = pending::<()>() => 13, _ = pending::<()>() => 14,
            _ = pending::<()>() => 15, _ = pending::<()>() => 16, _ = pending::<()>() => 17,
            _ = pending::<()>() => 18, _ = pending::<()>() => 19, _ = pending::<()>() => 20,
            _ = pending::<()>() => 21, _ = pending::<()>() => 22, _ = pending::<()>() => 23,
            _ = pending::<()>() => 24, _ = pending::<()>() => 25, _ = pending::<()>() => 26,
            _ = pending::<()>() => 27, _ = pending::<()>() => 28, _ = pending::<()>() => 29,
            _ = pending::<()>() => 30, _ = pending::<()>() => 31, _ = pending::<()>() => 32,
            _ = pending::<()>() => 33, _ = pending::<()>() => 34, _ = pending::<()>() => 35,
            _ = pending::<()>() => 36, _ = pending::<()>() => 37, _ = pending::<()>() => 38,
            _ = pending::<()>() => 39, _ = pending::<()>() => 40, _ = pending::<()>() => 41,
            _ = pending::<()>() => 42, _ = pending::<()>() => 43, _ = pending::<()>() => 44,
            _ = pending::<()>() => 45, _ = pending::<()>() => 46, _ = pending::<()>() => 47,
            _ = pending::<()>() => 48, _ = pending::<()>() => 49, _ = pending::<()>() => 50,
            _ = pending::<()>() => 51, _ = pending::<()>() => 52, _ = pending::<()>() => 53,
            _ = pending::<()>() => 54, _ = pending::<()>() => 55, _ = pending::<()>() => 56,
            _ = pending::<()>() => 57, _ = pending::<()>() => 58, _ = pending::<()>() => 59,
            _ = pending::<()>() => 60, _ = pending::<()>() => 61, _ = pending::<()>() => 62,
            _ = ready(()) => 63,
        }
    });
    assert_eq!(winner, 63);
}

// ----- on the runtime, with real timers -----

#[test]
fn a_message_beats_a_long_sleep_on_every_flavor() {
    for_each_flavor_within(LIMIT, |flavor| {
        run(build(flavor), async {
            let (tx, mut rx) = mpsc::channel::<&str>(1);
            corium::spawn(async move {
                sleep(Duration::from_millis(10)).await;
                tx.send("message").await.unwrap();
            });
            let winner = corium::select! {
                Some(message) = rx.recv() => message,
                () = sleep(Duration::from_secs(10)) => "timer",
            };
            assert_eq!(winner, "message");
        });
    });
}

#[test]
fn a_short_sleep_beats_a_silent_channel_on_every_flavor() {
    for_each_flavor_within(LIMIT, |flavor| {
        run(build(flavor), async {
            let (tx, mut rx) = mpsc::channel::<&str>(1);
            let winner = corium::select! {
                Some(message) = rx.recv() => message,
                () = sleep(Duration::from_millis(10)) => "timer",
            };
            assert_eq!(winner, "timer");
            // The losing `recv` was cancelled: the channel still works.
            tx.send("later").await.unwrap();
            assert_eq!(rx.recv().await, Some("later"));
        });
    });
}

#[test]
fn a_select_loop_drains_a_channel_then_times_out_on_every_flavor() {
    for_each_flavor_within(LIMIT, |flavor| {
        run(build(flavor), async {
            let (tx, mut rx) = mpsc::channel::<u32>(4);
            corium::spawn(async move {
                for n in 1..=5 {
                    tx.send(n).await.unwrap();
                }
                // Keeps the channel open past the idle timeout.
                sleep(Duration::from_secs(10)).await;
            });
            let mut received = Vec::new();
            loop {
                corium::select! {
                    Some(n) = rx.recv() => received.push(n),
                    () = sleep(Duration::from_millis(200)) => break,
                }
            }
            assert_eq!(received, [1, 2, 3, 4, 5]);
        });
    });
}

#[test]
fn a_select_runs_in_a_spawned_task_on_every_flavor() {
    // `spawn` takes only `Send` futures: the select's own state must be.
    for_each_flavor_within(LIMIT, |flavor| {
        run(build(flavor), async {
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            let task = corium::spawn(async move {
                corium::select! {
                    Some(n) = rx.recv() => n,
                    () = sleep(Duration::from_secs(10)) => 0,
                }
            });
            tx.send(3).await.unwrap();
            assert_eq!(task.await.unwrap(), 3);
        });
    });
}
