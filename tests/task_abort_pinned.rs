//! Aborting a task drops its future where it lies: a future that borrows
//! its own locals (here a broadcast receiver parked in `recv`) must not be
//! moved before it is dropped, or its drop reads a dangling pointer.

mod util;

use std::time::Duration;

use corium::sync::broadcast;

#[test]
fn aborting_a_task_parked_on_its_own_receiver_is_sound() {
    util::for_each_flavor(|flavor| {
        util::run(util::build(flavor), async {
            for _ in 0..100 {
                let (tx, mut rx) = broadcast::channel::<u64>(4);
                let task = corium::spawn(async move { rx.recv().await.ok() });
                corium::time::sleep(Duration::from_millis(1)).await;
                task.abort();
                assert!(task.await.unwrap_err().is_cancelled());
                // The dropped `Recv` left the waiter list: sending finds no
                // stale waiter and no receiver.
                assert!(tx.send(1).is_err());
            }
        })
    });
}
