//! `Notify`: the stored permit of `notify_one`, FIFO wakeups,
//! `notify_waiters`, `enable`, cancel safety (a chosen waiter that is
//! dropped passes its notification on; checked against a model), and a
//! cross-thread ping-pong that must never lose a wakeup.

mod util;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use corium::sync::{Notified, Notify};
use corium::task::yield_now;
use util::{bounded, for_each_flavor, on_runtime, yield_until, Lcg, Manual};

/// How long any one test may take before it counts as hung: a lost wakeup
/// never returns, and the watchdog turns that into a failure.
const WATCHDOG: Duration = Duration::from_secs(60);

impl<'a> Manual<Notified<'a>> {
    /// `Notified::enable`: joins the queue without a waker.
    fn enable(&mut self) -> bool {
        self.future().enable()
    }
}

/// `notify.notified()`, not yet polled.
fn notified(notify: &Notify) -> Manual<Notified<'_>> {
    Manual::new(notify.notified())
}

#[test]
fn notify_one_with_nobody_waiting_stores_one_permit() {
    let notify = Notify::new();
    notify.notify_one();
    notified(&notify).ready();
    notified(&notify).pending();
}

#[test]
fn stored_permits_do_not_add_up() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_one();
    notified(&notify).ready();
    let mut second = notified(&notify);
    second.pending();
    notify.notify_one();
    assert_eq!(second.wakes(), 1);
    second.ready();
}

#[test]
fn a_stored_permit_is_taken_by_a_notified_created_before_it() {
    let notify = Notify::new();
    let mut early = notified(&notify);
    notify.notify_one(); // `early` was never polled: the permit is stored
    early.ready();
    notified(&notify).pending();
}

#[test]
fn notify_one_wakes_the_first_waiter_only() {
    let notify = Notify::new();
    let mut waiters: Vec<_> = (0..4).map(|_| notified(&notify)).collect();
    for waiter in &mut waiters {
        waiter.pending();
    }
    for turn in 0..waiters.len() {
        notify.notify_one();
        for (j, waiter) in waiters.iter().enumerate() {
            assert_eq!(
                waiter.wakes(),
                usize::from(j <= turn),
                "waiter {j} at turn {turn}"
            );
        }
        waiters[turn].ready();
        for waiter in &mut waiters[turn + 1..] {
            waiter.pending();
        }
    }
    notified(&notify).pending();
}

#[test]
fn waiters_queue_in_the_order_they_first_wait_not_the_order_created() {
    let notify = Notify::new();
    let mut created_first = notified(&notify);
    let mut polled_first = notified(&notify);
    polled_first.pending();
    created_first.pending();
    notify.notify_one();
    assert_eq!((polled_first.wakes(), created_first.wakes()), (1, 0));
    polled_first.ready();
    created_first.pending();
}

#[test]
fn notify_one_wakes_tasks_in_fifo_order() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            let notify = Arc::new(Notify::new());
            let order = Arc::new(StdMutex::new(Vec::new()));
            let waiting = Arc::new(AtomicUsize::new(0));
            let mut tasks = Vec::new();
            for id in 0..5 {
                let (notify, order, queued) = (notify.clone(), order.clone(), waiting.clone());
                tasks.push(corium::spawn(async move {
                    let mut wait = std::pin::pin!(notify.notified());
                    assert!(!wait.as_mut().enable());
                    queued.fetch_add(1, SeqCst);
                    wait.await;
                    order.lock().unwrap().push(id);
                }));
                let waiting = waiting.clone();
                yield_until(move || waiting.load(SeqCst) == id + 1).await;
            }
            for done in 1..=5 {
                notify.notify_one();
                let order = order.clone();
                yield_until(move || order.lock().unwrap().len() == done).await;
            }
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
        });
    });
}

#[test]
fn notify_waiters_wakes_every_waiter_and_stores_no_permit() {
    let notify = Notify::new();
    let mut waiters: Vec<_> = (0..10).map(|_| notified(&notify)).collect();
    for waiter in &mut waiters {
        waiter.pending();
    }
    notify.notify_waiters();
    for waiter in &mut waiters {
        assert_eq!(waiter.wakes(), 1);
        waiter.ready();
    }
    notified(&notify).pending();
}

#[test]
fn notify_waiters_completes_a_notified_created_before_it_even_unpolled() {
    let notify = Notify::new();
    let mut before = notified(&notify);
    notify.notify_waiters();
    let mut after = notified(&notify);
    before.ready();
    after.pending();
}

#[test]
fn notify_waiters_leaves_a_stored_permit_in_place() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_waiters();
    notified(&notify).ready();
    notified(&notify).pending();
}

#[test]
fn notify_waiters_wakes_every_waiting_task() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            let notify = Arc::new(Notify::new());
            let waiting = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..20)
                .map(|_| {
                    let (notify, waiting) = (notify.clone(), waiting.clone());
                    corium::spawn(async move {
                        let wait = notify.notified();
                        waiting.fetch_add(1, SeqCst);
                        wait.await;
                    })
                })
                .collect();
            let counted = waiting.clone();
            yield_until(move || counted.load(SeqCst) == 20).await;
            notify.notify_waiters();
            for task in tasks {
                task.await.unwrap();
            }
        });
    });
}

#[test]
fn enable_joins_the_queue_before_the_first_poll() {
    let notify = Notify::new();
    let mut created_first = notified(&notify);
    let mut enabled = notified(&notify);
    assert!(!enabled.enable(), "nothing to consume yet");
    notify.notify_one(); // goes to the enabled one, not to a stored permit
    enabled.ready();
    created_first.pending();
}

#[test]
fn enable_reports_a_notification_already_there() {
    let notify = Notify::new();
    notify.notify_one();
    let mut a = notified(&notify);
    assert!(a.enable(), "the stored permit");
    a.ready();
    let mut b = notified(&notify);
    notify.notify_waiters();
    assert!(b.enable(), "a notify_waiters since it was created");
    b.ready();
    let mut c = notified(&notify);
    assert!(!c.enable());
    assert!(!c.enable(), "enabling twice keeps one place in the queue");
    notify.notify_one();
    c.ready();
    notified(&notify).pending();
}

// ---- Cancellation ---------------------------------------------------------

#[test]
fn a_chosen_waiter_dropped_before_polling_passes_it_to_the_next() {
    let notify = Notify::new();
    let mut chosen = notified(&notify);
    let mut next = notified(&notify);
    chosen.pending();
    next.pending();
    notify.notify_one();
    assert_eq!((chosen.wakes(), next.wakes()), (1, 0));
    drop(chosen);
    assert_eq!(next.wakes(), 1, "the notification was swallowed");
    next.ready();
    notified(&notify).pending();
}

#[test]
fn a_chosen_waiter_dropped_with_nobody_behind_stores_the_permit() {
    let notify = Notify::new();
    let mut chosen = notified(&notify);
    chosen.pending();
    notify.notify_one();
    drop(chosen);
    notified(&notify).ready();
    notified(&notify).pending();
}

#[test]
fn a_chosen_enabled_waiter_dropped_passes_it_on() {
    let notify = Notify::new();
    let mut chosen = notified(&notify);
    let mut next = notified(&notify);
    assert!(!chosen.enable());
    assert!(!next.enable());
    notify.notify_one();
    drop(chosen);
    next.ready();
}

#[test]
fn dropping_a_waiting_notified_does_not_affect_the_others() {
    let notify = Notify::new();
    let mut a = notified(&notify);
    let mut b = notified(&notify);
    let mut c = notified(&notify);
    a.pending();
    b.pending();
    c.pending();
    drop(b);
    notify.notify_one();
    assert_eq!((a.wakes(), c.wakes()), (1, 0));
    a.ready();
    notify.notify_one();
    assert_eq!(c.wakes(), 1);
    c.ready();
    notify.notify_one(); // nobody left: stored
    notified(&notify).ready();
}

#[test]
fn after_the_only_waiter_leaves_notify_one_stores_a_permit() {
    let notify = Notify::new();
    let mut only = notified(&notify);
    only.pending();
    drop(only);
    notify.notify_one();
    notified(&notify).ready();
}

#[test]
fn a_waiter_released_by_notify_waiters_passes_nothing_on_when_dropped() {
    let notify = Notify::new();
    let mut released = notified(&notify);
    released.pending();
    notify.notify_waiters();
    drop(released);
    notified(&notify).pending();
}

/// Where a `Notified` stands, in the documented protocol.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    /// Created, never polled; remembers the `notify_waiters` count.
    Created(usize),
    Queued,
    /// Dequeued by `notify_one`, not yet polled.
    Chosen,
    /// Dequeued by `notify_waiters`, not yet polled.
    Released,
}

/// The protocol of notify.rs, rules 1-4, as plain data.
#[derive(Default)]
struct Model {
    permit: bool,
    calls: usize,
    queue: Vec<usize>,
}

impl Model {
    /// First poll or `enable`: true if it completes.
    fn first_poll(&mut self, id: usize, created: usize, stages: &mut [Stage]) -> bool {
        if std::mem::take(&mut self.permit) || created != self.calls {
            return true;
        }
        self.queue.push(id);
        stages[id] = Stage::Queued;
        false
    }

    fn notify_one(&mut self, stages: &mut [Stage]) {
        if self.queue.is_empty() {
            self.permit = true;
        } else {
            stages[self.queue.remove(0)] = Stage::Chosen;
        }
    }

    fn notify_waiters(&mut self, stages: &mut [Stage]) {
        self.calls += 1;
        for id in self.queue.drain(..) {
            stages[id] = Stage::Released;
        }
    }

    fn drop_waiter(&mut self, id: usize, stages: &mut [Stage]) {
        match stages[id] {
            Stage::Queued => self.queue.retain(|&q| q != id),
            Stage::Chosen => self.notify_one(stages),
            Stage::Created(_) | Stage::Released => {}
        }
    }
}

#[test]
fn random_waits_notifications_and_cancellations_follow_the_model() {
    for seed in 0..8 {
        let notify = Notify::new();
        let mut model = Model::default();
        let mut rng = Lcg(seed);
        let mut stages = Vec::new();
        // (id, polled with a waker, future)
        let mut live: Vec<(usize, bool, Manual<Notified<'_>>)> = Vec::new();
        for op in 0..5_000 {
            match rng.below(9) {
                0 | 1 if live.len() < 8 => {
                    stages.push(Stage::Created(model.calls));
                    live.push((stages.len() - 1, false, notified(&notify)));
                }
                2 | 3 if !live.is_empty() => {
                    let i = rng.below(live.len());
                    let (id, polled, waiter) = &mut live[i];
                    let expected = match stages[*id] {
                        Stage::Created(calls) => model.first_poll(*id, calls, &mut stages),
                        Stage::Queued => false,
                        Stage::Chosen | Stage::Released => true,
                    };
                    let ready = if rng.below(4) == 0 {
                        waiter.enable()
                    } else {
                        *polled = true;
                        waiter.poll().is_ready()
                    };
                    assert_eq!(ready, expected, "seed {seed} op {op}: {:?}", stages[*id]);
                    if ready {
                        live.swap_remove(i);
                    }
                }
                4 if !live.is_empty() => {
                    let (id, _, waiter) = live.swap_remove(rng.below(live.len()));
                    model.drop_waiter(id, &mut stages);
                    drop(waiter);
                }
                5 | 6 => {
                    model.notify_one(&mut stages);
                    notify.notify_one();
                }
                7 => {
                    model.notify_waiters(&mut stages);
                    notify.notify_waiters();
                }
                _ => {}
            }
            for (id, polled, waiter) in &live {
                // Only a polled waiter has a waker to wake.
                if *polled && matches!(stages[*id], Stage::Chosen | Stage::Released) {
                    assert!(
                        waiter.wakes() > 0,
                        "seed {seed} op {op}: released, not woken"
                    );
                }
            }
        }
        // Drop whatever is left (chosen ones pass their notification on),
        // then a stored permit must be there exactly when the model has one.
        for (id, _, waiter) in live {
            model.drop_waiter(id, &mut stages);
            drop(waiter);
        }
        let mut last = notified(&notify);
        assert_eq!(
            last.poll().is_ready(),
            model.permit,
            "seed {seed}: the permit"
        );
    }
}

// ---- Across threads -------------------------------------------------------

/// Plays `rounds` of ping-pong between this thread and an answerer thread
/// that runs `answer(ping, pong, count)`: each round notifies `ping`,
/// waits for `pong`, and checks that the answerer counted the round.
/// Returns the final count, read after the answerer has finished.
fn ping_pong<A>(rounds: usize, answer: A) -> usize
where
    A: FnOnce(Arc<Notify>, Arc<Notify>, Arc<AtomicUsize>) + Send + 'static,
{
    let ping = Arc::new(Notify::new());
    let pong = Arc::new(Notify::new());
    let count = Arc::new(AtomicUsize::new(0));
    let answerer = std::thread::spawn({
        let (ping, pong, count) = (ping.clone(), pong.clone(), count.clone());
        move || answer(ping, pong, count)
    });
    corium::block_on(async {
        for round in 0..rounds {
            ping.notify_one();
            pong.notified().await;
            assert_eq!(count.load(SeqCst), round + 1);
        }
    });
    answerer.join().unwrap();
    count.load(SeqCst)
}

#[test]
fn ping_pong_between_threads_never_loses_a_wakeup() {
    const ROUNDS: usize = 100_000;
    bounded(WATCHDOG, || {
        let answered = ping_pong(ROUNDS, |ping, pong, count| {
            corium::block_on(async {
                for _ in 0..ROUNDS {
                    ping.notified().await;
                    count.fetch_add(1, SeqCst);
                    pong.notify_one();
                }
            })
        });
        assert_eq!(answered, ROUNDS);
    });
}

#[test]
fn ping_pong_with_a_cancelled_waiter_in_front_never_loses_a_wakeup() {
    const ROUNDS: usize = 20_000;
    bounded(WATCHDOG, || {
        ping_pong(ROUNDS, |ping, pong, count| {
            corium::block_on(async {
                for _ in 0..ROUNDS {
                    // A decoy queues first and is dropped, possibly just
                    // after the other thread chose it: the ping must reach
                    // the real waiter all the same.
                    let mut decoy = Box::pin(ping.notified());
                    let mut real = Box::pin(ping.notified());
                    if decoy.as_mut().enable() {
                        // The ping came first and the decoy took it.
                        drop(real);
                    } else {
                        real.as_mut().enable();
                        yield_now().await;
                        drop(decoy);
                        real.await;
                    }
                    count.fetch_add(1, SeqCst);
                    pong.notify_one();
                }
            })
        });
    });
}

#[test]
fn a_notify_from_another_thread_wakes_a_parked_task() {
    for_each_flavor(|flavor| {
        on_runtime(WATCHDOG, flavor, false, || async {
            let notify = Arc::new(Notify::new());
            let mut wait = std::pin::pin!(notify.notified());
            assert!(!wait.as_mut().enable());
            let notifier = std::thread::spawn({
                let notify = notify.clone();
                move || notify.notify_one()
            });
            wait.await; // the runtime parks until the other thread notifies
            corium::task::spawn_blocking(move || notifier.join().unwrap())
                .await
                .unwrap();
        });
    });
}
