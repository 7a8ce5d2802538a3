//! The task cell and its type-erased vtable: all of the executor's unsafe
//! code about tasks lives here.
//!
//! A task is one allocation, a `#[repr(C)]` [`Cell`]: the [`Header`] first
//! (so a `NonNull<Header>` can be cast back to the cell), the scheduler
//! handle, the stage (the future, then its output) and the join waker slot.
//! Everything outside this file holds a [`RawTask`] (a pointer plus one
//! counted reference) and goes through the vtable.

use std::any::Any;
use std::cell::UnsafeCell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::thread::ThreadId;

use super::state::{Snapshot, State, ToIdle, ToNotified, ToRunning};
use super::{Id, JoinError, Notified, Schedule};

/// The part of a task every owner can read without knowing its types.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    vtable: &'static Vtable,
    pub(crate) id: Id,
    /// For `spawn_local` tasks: the only thread that may poll or drop the
    /// future.
    pub(crate) local_owner: Option<ThreadId>,
    /// The task's slot in its scheduler's owned list.
    ///
    /// # Invariant
    /// Read and written only under what guards that list: on the
    /// current-thread flavor, by the thread holding the core; on the
    /// multi-thread flavor, under the lock of the list's shard that holds
    /// the task.
    pub(crate) owned_index: UnsafeCell<usize>,
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// The whole task allocation.
#[repr(C)]
struct Cell<F: Future, S> {
    header: Header,
    scheduler: S,
    /// # Invariant
    /// Accessed only by the thread that set RUNNING (while it is set), or,
    /// once COMPLETE, by the `JoinHandle` owner (rule 4 of `task/mod.rs`).
    stage: UnsafeCell<Stage<F>>,
    /// # Invariant
    /// Owned by the `JoinHandle` while JOIN_WAKER is clear, by the runtime
    /// side while it is set (rule 5).
    join_waker: UnsafeCell<Option<Waker>>,
}

struct Vtable {
    poll: unsafe fn(NonNull<Header>),
    schedule: unsafe fn(NonNull<Header>),
    dealloc: unsafe fn(NonNull<Header>),
    try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    drop_join_handle: unsafe fn(NonNull<Header>),
    shutdown: unsafe fn(NonNull<Header>),
}

fn vtable<F: Future, S: Schedule>() -> &'static Vtable {
    &Vtable {
        poll: poll::<F, S>,
        schedule: schedule::<F, S>,
        dealloc: dealloc::<F, S>,
        try_read_output: try_read_output::<F, S>,
        drop_join_handle: drop_join_handle::<F, S>,
        shutdown: shutdown::<F, S>,
    }
}

/// A pointer to a task that owns one counted reference, by convention of
/// the type that wraps it (`Task`, `Notified`, `JoinHandle`, ...).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

// SAFETY: a task is shared between threads by design: the header is
// atomics plus fields written once at creation (`owned_index` is guarded by
// its invariant), and the future is only touched by the thread that owns
// RUNNING. `spawn` requires `F: Send`; `spawn_local` tasks carry their owner
// thread and schedulers poll them nowhere else.
unsafe impl Send for RawTask {}
// SAFETY: as for `Send`: every shared access goes through the state word.
unsafe impl Sync for RawTask {}

impl RawTask {
    /// Allocates a task holding `refs` references (see `State::new`).
    pub(crate) fn new<F, S>(future: F, scheduler: S, id: Id, refs: usize) -> RawTask
    where
        F: Future + 'static,
        S: Schedule,
    {
        RawTask::new_with_owner(future, scheduler, id, refs, None)
    }

    pub(crate) fn new_with_owner<F, S>(
        future: F,
        scheduler: S,
        id: Id,
        refs: usize,
        local_owner: Option<ThreadId>,
    ) -> RawTask
    where
        F: Future + 'static,
        S: Schedule,
    {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(refs),
                vtable: vtable::<F, S>(),
                id,
                local_owner,
                owned_index: UnsafeCell::new(usize::MAX),
            },
            scheduler,
            stage: UnsafeCell::new(Stage::Running(future)),
            join_waker: UnsafeCell::new(None),
        });
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        RawTask { ptr }
    }

    pub(crate) fn as_ptr(self) -> NonNull<Header> {
        self.ptr
    }

    /// # Safety
    /// `ptr` must point to a live task and the caller own a reference to it.
    pub(crate) unsafe fn from_ptr(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: the reference this `RawTask` stands for keeps the
        // allocation alive.
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn id(&self) -> Id {
        self.header().id
    }

    /// Polls (or cancels) the task, consuming the run queue's reference.
    pub(crate) fn poll(self) {
        // SAFETY: the caller passes the run queue's reference (a `Notified`).
        unsafe { (self.header().vtable.poll)(self.ptr) }
    }

    /// Cancels the task if it is idle, consuming the owned list's reference.
    pub(crate) fn shutdown(self) {
        // SAFETY: the caller passes the owned list's reference (a `Task`).
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }

    /// Writes the output into `dst` (a `*mut Poll<Result<T, JoinError>>`)
    /// if it is ready, else registers `waker`.
    ///
    /// # Safety
    /// `dst` must point to a `Poll<Result<T, JoinError>>` where `T` is the
    /// task's output type, and the caller must be the `JoinHandle`.
    pub(crate) unsafe fn try_read_output(&self, dst: *mut (), waker: &Waker) {
        // SAFETY: forwarded from the caller.
        unsafe { (self.header().vtable.try_read_output)(self.ptr, dst, waker) }
    }

    /// Drops the `JoinHandle`'s reference (and the output, if stored).
    pub(crate) fn drop_join_handle(self) {
        // SAFETY: called once, by the `JoinHandle`'s drop.
        unsafe { (self.header().vtable.drop_join_handle)(self.ptr) }
    }

    /// Aborts the task: the runtime cancels it at its next chance.
    pub(crate) fn remote_abort(&self) {
        if self.header().state.transition_to_notified_and_cancel() {
            // SAFETY: the transition took a reference for the run queue.
            unsafe { (self.header().vtable.schedule)(self.ptr) }
        }
    }

    pub(crate) fn ref_inc(&self) {
        self.header().state.ref_inc();
    }

    /// Drops one reference, freeing the task if it was the last.
    pub(crate) fn drop_reference(self) {
        if self.header().state.ref_dec() {
            // SAFETY: that was the last reference.
            unsafe { (self.header().vtable.dealloc)(self.ptr) }
        }
    }

    pub(crate) fn state(&self) -> Snapshot {
        self.header().state.load()
    }
}

/// Casts back to the cell.
///
/// # Safety
/// `ptr` must come from `RawTask::new::<F, S>` and be alive.
unsafe fn cell<'a, F: Future, S>(ptr: NonNull<Header>) -> &'a Cell<F, S> {
    // SAFETY: `Cell` is `#[repr(C)]` with the header first, and the caller
    // guarantees the types and liveness.
    unsafe { ptr.cast::<Cell<F, S>>().as_ref() }
}

unsafe fn dealloc<F: Future, S>(ptr: NonNull<Header>) {
    // SAFETY: the last reference is gone, so no one else can reach the
    // cell; it was allocated as a `Box<Cell<F, S>>` in `RawTask::new`.
    drop(unsafe { Box::from_raw(ptr.cast::<Cell<F, S>>().as_ptr()) });
}

unsafe fn schedule<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller hands over a reference for the queue; the cell is
    // alive while it exists.
    let cell = unsafe { cell::<F, S>(ptr) };
    cell.scheduler.schedule(Notified(RawTask { ptr }));
}

/// Rules 2 and 3: run the task once.
unsafe fn poll<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller passed the run queue's reference, which is alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    match cell.header.state.transition_to_running() {
        ToRunning::Success => {}
        ToRunning::Cancelled => {
            // SAFETY: we set RUNNING.
            unsafe { cancel_and_complete(cell, 1) };
            return;
        }
        ToRunning::Failed => return,
        ToRunning::Dealloc => {
            // SAFETY: the transition dropped the last reference.
            unsafe { dealloc::<F, S>(ptr) };
            return;
        }
    }
    // The running reference keeps the task alive for as long as this
    // borrowed waker lives, so it takes no reference of its own.
    // SAFETY: `ptr` is a live task; `WAKER_VTABLE` expects exactly that.
    let waker = ManuallyDrop::new(unsafe { Waker::from_raw(raw_waker(ptr)) });
    let mut cx = Context::from_waker(&waker);
    // SAFETY: we set RUNNING, so we own the stage (rule 2).
    let polled = unsafe { poll_stage(cell, &mut cx) };
    match polled {
        Poll::Ready(output) => {
            if output.as_ref().is_err_and(JoinError::is_panic) {
                cell.scheduler.unhandled_panic();
            }
            // SAFETY: still RUNNING.
            unsafe { store_output_and_complete(cell, output, 1) };
        }
        Poll::Pending => match cell.header.state.transition_to_idle() {
            ToIdle::Ok => {}
            ToIdle::OkNotified => cell.scheduler.yield_now(Notified(RawTask { ptr })),
            // SAFETY: the transition dropped the last reference.
            ToIdle::OkDealloc => unsafe { dealloc::<F, S>(ptr) },
            // SAFETY: still RUNNING (the transition left it set).
            ToIdle::Cancelled => unsafe { cancel_and_complete(cell, 1) },
        },
    }
}

/// Polls the future, catching a panic into a `JoinError`.
///
/// # Safety
/// The caller owns RUNNING and the stage is `Running`.
unsafe fn poll_stage<F: Future, S>(
    cell: &Cell<F, S>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, JoinError>> {
    let id = cell.header.id;
    let _task_id = super::id::enter(id);
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller owns the stage; the future is never moved
        // (it lives in the heap cell until dropped in place).
        let stage = unsafe { &mut *cell.stage.get() };
        let Stage::Running(future) = stage else {
            unreachable!("polled a task whose future is gone");
        };
        // SAFETY: as above, the future is pinned in the cell.
        unsafe { std::pin::Pin::new_unchecked(future) }.poll(cx)
    }));
    match result {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
        Err(panic) => Poll::Ready(Err(JoinError::panic(id, panic))),
    }
}

/// Replaces the stage, dropping what was there **in place**; a panic in
/// that drop is returned instead of unwinding through the scheduler.
///
/// The future is pinned in the cell: it may hold pointers into itself (a
/// future parked in `rx.recv()` borrows its own `rx`), so it must be
/// dropped where it lies, never moved out first.
///
/// # Safety
/// The caller owns the stage (rule 2 or 4).
unsafe fn set_stage<F: Future, S>(
    cell: &Cell<F, S>,
    stage: Stage<F>,
) -> Result<(), Box<dyn Any + Send>> {
    let slot = cell.stage.get();
    // SAFETY: forwarded from the caller: nobody else touches the slot. The
    // value is dropped once; whether or not the drop panics (unwinding
    // still drops the remaining fields), the slot is then overwritten
    // without being dropped again.
    let dropped = catch_unwind(AssertUnwindSafe(|| unsafe {
        std::ptr::drop_in_place(slot)
    }));
    // SAFETY: the slot's old value was dropped just above.
    unsafe { std::ptr::write(slot, stage) };
    dropped
}

/// Drops the future and stores the cancellation (or the panic of the
/// future's drop), then completes.
///
/// # Safety
/// The caller owns RUNNING and holds `refs` references to give up.
unsafe fn cancel_and_complete<F: Future, S: Schedule>(cell: &Cell<F, S>, refs: usize) {
    let id = cell.header.id;
    let _task_id = super::id::enter(id);
    // SAFETY: forwarded from the caller.
    let dropped = unsafe { set_stage(cell, Stage::Consumed) };
    let error = match dropped {
        Ok(()) => JoinError::cancelled(id),
        Err(panic) => JoinError::panic(id, panic),
    };
    // SAFETY: forwarded from the caller.
    unsafe { store_output_and_complete(cell, Err(error), refs) };
}

/// Rule 4: stores the output, publishes COMPLETE, wakes the joiner, leaves
/// the owned list and drops the references.
///
/// # Safety
/// The caller owns RUNNING and holds `refs` references to give up.
unsafe fn store_output_and_complete<F: Future, S: Schedule>(
    cell: &Cell<F, S>,
    output: Result<F::Output, JoinError>,
    refs: usize,
) {
    // A panic while dropping the future is lost here only if the output
    // itself could not be stored, which `set_stage` does not do.
    // SAFETY: forwarded from the caller.
    let _ = unsafe { set_stage(cell, Stage::Finished(output)) };
    let snapshot = cell.header.state.transition_to_complete();
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if !snapshot.is_join_interested() {
            // No one will read the output: drop it now. The handle cleared
            // JOIN_INTEREST before COMPLETE, so it will not touch the stage.
            // SAFETY: as just argued, nobody else accesses the stage.
            let _ = unsafe { set_stage(cell, Stage::Consumed) };
        } else if snapshot.is_join_waker_set() {
            // SAFETY: JOIN_WAKER is set: the runtime side owns the slot.
            if let Some(waker) = unsafe { &*cell.join_waker.get() } {
                waker.wake_by_ref();
            }
            let after = cell.header.state.unset_waker_after_complete();
            if !after.is_join_interested() {
                // SAFETY: the handle is gone and left the slot to us.
                unsafe { *cell.join_waker.get() = None };
            }
        }
    }));
    let released = cell.scheduler.release(&cell.header);
    let refs = refs + usize::from(released);
    if cell.header.state.ref_dec_n(refs) {
        // SAFETY: those were the last references.
        unsafe { dealloc::<F, S>(NonNull::from(&cell.header)) };
    }
}

unsafe fn shutdown<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller passed the owned list's reference.
    let cell = unsafe { cell::<F, S>(ptr) };
    if cell.header.state.transition_to_shutdown() {
        // SAFETY: the transition set RUNNING for us; the owned list's
        // reference is the one we give up.
        unsafe { cancel_and_complete(cell, 1) };
    } else {
        RawTask { ptr }.drop_reference();
    }
}

/// Rule 5: register `waker` for completion, or find the output ready.
unsafe fn try_read_output<F: Future, S>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker) {
    // SAFETY: the `JoinHandle`'s reference keeps the cell alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    // SAFETY: the caller is the `JoinHandle`.
    if !unsafe { can_read_output(cell, waker) } {
        return;
    }
    // SAFETY: COMPLETE with JOIN_INTEREST: the stage is ours (rule 4).
    let stage = unsafe { std::mem::replace(&mut *cell.stage.get(), Stage::Consumed) };
    let Stage::Finished(output) = stage else {
        panic!("JoinHandle polled after it returned the output");
    };
    // SAFETY: the caller guarantees `dst`'s type.
    unsafe { *dst.cast::<Poll<Result<F::Output, JoinError>>>() = Poll::Ready(output) };
}

/// # Safety
/// The caller is the `JoinHandle`.
unsafe fn can_read_output<F: Future, S>(cell: &Cell<F, S>, waker: &Waker) -> bool {
    let state = &cell.header.state;
    let snapshot = state.load();
    if snapshot.is_complete() {
        return true;
    }
    let registered = if !snapshot.is_join_waker_set() {
        // SAFETY: JOIN_WAKER is clear: the slot is ours.
        unsafe { set_join_waker(cell, waker.clone()) }
    } else {
        // SAFETY: JOIN_WAKER is set; only reading is allowed, and the
        // runtime side only reads it too until it unsets the bit.
        let same = unsafe { &*cell.join_waker.get() }
            .as_ref()
            .is_some_and(|w| w.will_wake(waker));
        if same {
            return false;
        }
        state
            .unset_join_waker()
            // SAFETY: unsetting succeeded: the slot is ours again.
            .and_then(|_| unsafe { set_join_waker(cell, waker.clone()) })
    };
    match registered {
        Ok(_) => false,
        Err(snapshot) => {
            debug_assert!(snapshot.is_complete());
            true
        }
    }
}

/// # Safety
/// JOIN_WAKER must be clear and the caller the `JoinHandle`.
unsafe fn set_join_waker<F: Future, S>(
    cell: &Cell<F, S>,
    waker: Waker,
) -> Result<Snapshot, Snapshot> {
    // SAFETY: the slot is ours (caller's contract).
    unsafe { *cell.join_waker.get() = Some(waker) };
    let result = cell.header.state.set_join_waker();
    if result.is_err() {
        // SAFETY: the bit was not set, so the slot is still ours.
        unsafe { *cell.join_waker.get() = None };
    }
    result
}

/// Rule 6.
unsafe fn drop_join_handle<F: Future, S>(ptr: NonNull<Header>) {
    // SAFETY: the handle's reference keeps the cell alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    let (drop_output, drop_waker) = cell.header.state.transition_to_join_handle_dropped();
    if drop_output {
        // SAFETY: COMPLETE with JOIN_INTEREST set at completion: the stage
        // is the handle's. A panic in the output's drop is swallowed; the
        // handle is going away and has nowhere to report it.
        let _ = unsafe { set_stage(cell, Stage::Consumed) };
    }
    if drop_waker {
        // SAFETY: the transition gave the slot back to the handle.
        unsafe { *cell.join_waker.get() = None };
    }
    RawTask { ptr }.drop_reference();
}

// ---- Wakers ----------------------------------------------------------------

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake_by_val, wake_by_ref, drop_waker);

fn raw_waker(ptr: NonNull<Header>) -> RawWaker {
    RawWaker::new(ptr.as_ptr() as *const (), &WAKER_VTABLE)
}

unsafe fn clone_waker(ptr: *const ()) -> RawWaker {
    let task = RawTask {
        // SAFETY: wakers are only built from live task pointers.
        ptr: unsafe { NonNull::new_unchecked(ptr as *mut Header) },
    };
    task.ref_inc();
    raw_waker(task.ptr)
}

unsafe fn wake_by_val(ptr: *const ()) {
    // SAFETY: this waker owns a reference to a live task.
    let ptr = unsafe { NonNull::new_unchecked(ptr as *mut Header) };
    let task = RawTask { ptr };
    match task.header().state.transition_to_notified_by_val() {
        // SAFETY: the waker's reference moves to the run queue.
        ToNotified::Submit => unsafe { (task.header().vtable.schedule)(ptr) },
        // SAFETY: the transition dropped the last reference.
        ToNotified::Dealloc => unsafe { (task.header().vtable.dealloc)(ptr) },
        ToNotified::DoNothing => {}
    }
}

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: the waker's reference keeps the task alive.
    let ptr = unsafe { NonNull::new_unchecked(ptr as *mut Header) };
    let task = RawTask { ptr };
    if let ToNotified::Submit = task.header().state.transition_to_notified_by_ref() {
        // SAFETY: the transition took a reference for the run queue.
        unsafe { (task.header().vtable.schedule)(ptr) };
    }
}

unsafe fn drop_waker(ptr: *const ()) {
    RawTask {
        // SAFETY: this waker owns a reference to a live task.
        ptr: unsafe { NonNull::new_unchecked(ptr as *mut Header) },
    }
    .drop_reference();
}
