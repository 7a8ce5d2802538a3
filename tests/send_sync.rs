//! Compile-time checks of the auto traits of the public types: losing
//! `Send`, `Sync` or `Unpin` fails this test, not a user's build.

use std::future::Pending;

use corium::runtime::{Handle, Runtime};
use corium::task::{AbortHandle, JoinError, JoinHandle};
use corium::time::{Interval, Sleep, Timeout};

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}
fn assert_unpin<T: Unpin>() {}
fn assert_clone<T: Clone>() {}
fn send_value<T: Send>(_: &T) {}

#[test]
fn public_types_have_the_auto_traits_users_rely_on() {
    assert_send::<Runtime>();
    assert_sync::<Runtime>();

    assert_send::<Handle>();
    assert_sync::<Handle>();
    assert_clone::<Handle>();

    assert_send::<JoinHandle<u32>>();
    assert_sync::<JoinHandle<u32>>();
    assert_unpin::<JoinHandle<u32>>();

    assert_send::<JoinError>();
    assert_sync::<JoinError>();

    assert_send::<AbortHandle>();
    assert_sync::<AbortHandle>();

    assert_send::<Sleep>();
    assert_sync::<Sleep>();

    assert_send::<Timeout<Pending<()>>>();
    assert_send::<Timeout<Sleep>>();

    assert_send::<corium::signal::unix::Signal>();
    assert_sync::<corium::signal::unix::Signal>();
    assert_unpin::<corium::signal::unix::Signal>();
    assert_send::<corium::signal::unix::SignalKind>();
    // `corium::spawn(ctrl_c())` needs the future to be Send.
    send_value(&corium::signal::ctrl_c());
    assert_clone::<corium::signal::unix::SignalKind>();

    assert_send::<Interval>();
}

#[test]
fn errors_are_std_errors_usable_with_question_mark() {
    fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<JoinError>();
    assert_error::<corium::time::Elapsed>();
    assert_error::<corium::runtime::TryCurrentError>();
    assert_error::<corium::task::AccessError>();
}

/// The futures of `corium::sync` are `Send` when their data is, so a task
/// that awaits them can be spawned.
#[test]
fn sync_types_and_their_futures_are_send() {
    use corium::sync::{
        mpsc, oneshot, Barrier, CancellationToken, Mutex, Notify, OnceCell, RwLock, Semaphore,
    };
    use std::sync::Arc;

    fn assert_send_future<F: std::future::Future + Send>(_: &F) {}

    assert_send::<Mutex<Vec<u8>>>();
    assert_sync::<Mutex<std::cell::Cell<u8>>>();
    assert_send::<corium::sync::MutexGuard<'static, Vec<u8>>>();
    assert_send::<corium::sync::OwnedMutexGuard<Vec<u8>>>();
    assert_sync::<RwLock<Vec<u8>>>();
    assert_sync::<Semaphore>();
    assert_send::<corium::sync::OwnedSemaphorePermit>();
    assert_sync::<Notify>();
    assert_sync::<Barrier>();
    assert_sync::<OnceCell<String>>();
    assert_send::<CancellationToken>();
    assert_sync::<CancellationToken>();
    assert_clone::<CancellationToken>();
    assert_send::<mpsc::Sender<String>>();
    assert_sync::<mpsc::Sender<String>>();
    assert_clone::<mpsc::Sender<String>>();
    assert_send::<mpsc::Receiver<String>>();
    assert_send::<mpsc::UnboundedSender<String>>();
    assert_send::<mpsc::UnboundedReceiver<String>>();
    assert_send::<oneshot::Sender<String>>();
    assert_send::<oneshot::Receiver<String>>();
    assert_unpin::<oneshot::Receiver<String>>();
    assert_error::<mpsc::error::SendError<String>>();
    assert_error::<mpsc::error::TrySendError<String>>();
    assert_error::<mpsc::error::TryRecvError>();
    assert_error::<oneshot::error::RecvError>();
    assert_error::<corium::sync::AcquireError>();
    assert_error::<corium::sync::TryLockError>();

    // Build the futures without running them: only their types matter.
    let mutex = Arc::new(Mutex::new(0u32));
    let rwlock = RwLock::new(0u32);
    let sem = Arc::new(Semaphore::new(1));
    let notify = Notify::new();
    let barrier = Barrier::new(1);
    let cell = OnceCell::<u32>::new();
    let token = CancellationToken::new();
    let (tx, mut rx) = mpsc::channel::<String>(1);
    let (_otx, orx) = oneshot::channel::<String>();
    assert_send_future(&mutex.lock());
    assert_send_future(&mutex.clone().lock_owned());
    assert_send_future(&rwlock.read());
    assert_send_future(&rwlock.write());
    assert_send_future(&sem.acquire());
    assert_send_future(&sem.clone().acquire_owned());
    assert_send_future(&notify.notified());
    assert_send_future(&barrier.wait());
    assert_send_future(&cell.get_or_init(|| async { 1 }));
    assert_send_future(&token.cancelled());
    assert_send_future(&tx.send(String::new()));
    assert_send_future(&tx.reserve());
    assert_send_future(&tx.closed());
    assert_send_future(&rx.recv());
    assert_send_future(&orx);
}

fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
