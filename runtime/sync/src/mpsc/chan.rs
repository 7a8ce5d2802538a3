//! The channel both `mpsc` flavours share: a queue, a capacity account and
//! two waiter lists under one short lock.
//!
//! # Protocol
//!
//! 1. Capacity in use is `queue.len() + reserved`, where `reserved` counts
//!    slots promised to a sender (a `Permit`, or a waiting `send` that was
//!    granted a slot) but not yet filled. The unbounded flavour has an
//!    unreachable bound.
//! 2. A sender takes a free slot directly only if no sender is queued, so
//!    senders are served in order. When the receiver frees a slot and a
//!    sender is queued, the slot is *granted* to the first one (counted in
//!    `reserved`) and it is woken; a granted sender that is dropped gives
//!    the slot on (rule 2 again), so a cancelled `send` loses no capacity.
//! 3. The receiver's waker is taken by the first message after it
//!    registered, so a burst of sends wakes it once.
//! 4. The channel is closed for senders when the receiver closes or drops;
//!    queued senders fail, but granted slots and permits may still be
//!    filled, and the receiver drains everything before `recv` returns
//!    `None`. `recv` returns `None` once the queue is empty and no sender
//!    (or no reserved slot, after `close`) remains.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::{Arc, Mutex, MutexGuard};
use crate::waiters::{WaitList, WakeList};

/// A queued sender's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    Waiting,
    Granted,
    Closed,
}

pub(crate) struct Chan<T> {
    state: Mutex<State<T>>,
    senders: AtomicUsize,
    bound: usize,
}

struct State<T> {
    queue: VecDeque<T>,
    reserved: usize,
    rx_waker: Option<Waker>,
    /// The receiver closed (rule 4).
    rx_closed: bool,
    /// The receiver is gone: values sent from now on are dropped at once.
    rx_dropped: bool,
    /// Every sender is gone.
    tx_closed: bool,
    send_waiters: WaitList<Grant>,
    closed_waiters: WaitList<()>,
}

/// Why a `try_send` did not send.
pub(crate) enum TryPush<T> {
    Full(T),
    Closed(T),
}

impl<T> Chan<T> {
    pub(crate) fn new(bound: usize) -> Arc<Chan<T>> {
        Arc::new(Chan {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                reserved: 0,
                rx_waker: None,
                rx_closed: false,
                rx_dropped: false,
                tx_closed: false,
                send_waiters: WaitList::new(),
                closed_waiters: WaitList::new(),
            }),
            senders: AtomicUsize::new(1),
            bound,
        })
    }

    pub(crate) fn bound(&self) -> usize {
        self.bound
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock()
    }

    // ----- senders -----

    /// Pushes `value` if a slot is free and nobody queued first (rule 2).
    pub(crate) fn try_push(&self, value: T) -> Result<(), TryPush<T>> {
        let mut state = self.lock();
        if state.rx_closed {
            return Err(TryPush::Closed(value));
        }
        if !state.has_room(self.bound) {
            return Err(TryPush::Full(value));
        }
        state.queue.push_back(value);
        let waker = state.rx_waker.take();
        drop(state);
        wake(waker);
        Ok(())
    }

    /// Takes a free slot for a permit, if one is free and nobody queued
    /// first. `Err(true)` means closed, `Err(false)` full.
    pub(crate) fn try_reserve(&self) -> Result<(), bool> {
        let mut state = self.lock();
        if state.rx_closed {
            return Err(true);
        }
        if !state.has_room(self.bound) {
            return Err(false);
        }
        state.reserved += 1;
        Ok(())
    }

    /// Fills a reserved slot (rule 4: allowed even after `close`).
    pub(crate) fn push_reserved(&self, value: T) {
        let mut state = self.lock();
        state.reserved -= 1;
        if state.rx_dropped {
            drop(state);
            drop(value);
            return;
        }
        state.queue.push_back(value);
        let waker = state.rx_waker.take();
        drop(state);
        wake(waker);
    }

    /// Gives back a reserved slot that was not filled.
    pub(crate) fn release_reserved(&self) {
        let mut wakers = WakeList::new();
        self.lock().return_reserved(&mut wakers);
        wakers.wake_all();
    }

    pub(crate) fn add_sender(&self) {
        self.senders.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds a sender if one is still alive (`WeakSender::upgrade`).
    pub(crate) fn try_add_sender(&self) -> bool {
        let mut count = self.senders.load(Ordering::Relaxed);
        while count > 0 {
            match self.senders.compare_exchange_weak(
                count,
                count + 1,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => count = actual,
            }
        }
        false
    }

    pub(crate) fn sender_count(&self) -> usize {
        self.senders.load(Ordering::Acquire)
    }

    /// The last sender leaving closes the channel for the receiver.
    pub(crate) fn drop_sender(&self) {
        if self.senders.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let waker = {
            let mut state = self.lock();
            state.tx_closed = true;
            state.rx_waker.take()
        };
        wake(waker);
    }

    pub(crate) fn is_rx_closed(&self) -> bool {
        self.lock().rx_closed
    }

    /// Free slots right now (0 while senders are queued).
    pub(crate) fn capacity(&self) -> usize {
        let state = self.lock();
        self.bound - state.used()
    }

    pub(crate) fn poll_rx_closed(&self, key: &mut Option<usize>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.lock();
        if state.rx_closed {
            if let Some(key) = key.take() {
                state.closed_waiters.remove(key);
            }
            return Poll::Ready(());
        }
        match *key {
            Some(k) => state.closed_waiters.set_waker(k, cx.waker()),
            None => *key = Some(state.closed_waiters.push_back(Some(cx.waker().clone()), ())),
        }
        Poll::Pending
    }

    pub(crate) fn cancel_closed_wait(&self, key: usize) {
        self.lock().closed_waiters.remove(key);
    }

    // ----- the receiver -----

    /// Takes the next message, or tells why there is none.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut wakers = WakeList::new();
        let polled = {
            let mut state = self.lock();
            match state.queue.pop_front() {
                Some(value) => {
                    state.free_slots(1, &mut wakers);
                    Poll::Ready(Some(value))
                }
                None if state.is_finished() => Poll::Ready(None),
                None => {
                    match &mut state.rx_waker {
                        Some(old) if old.will_wake(cx.waker()) => {}
                        old => *old = Some(cx.waker().clone()),
                    }
                    Poll::Pending
                }
            }
        };
        wakers.wake_all();
        polled
    }

    /// Moves up to `limit` messages into `buffer`; returns how many.
    pub(crate) fn poll_recv_many(
        &self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        let mut wakers = WakeList::new();
        let polled = {
            let mut state = self.lock();
            let n = state.queue.len().min(limit);
            if n > 0 {
                buffer.extend(state.queue.drain(..n));
                state.free_slots(n, &mut wakers);
                Poll::Ready(n)
            } else if state.is_finished() {
                Poll::Ready(0)
            } else {
                state.rx_waker = Some(cx.waker().clone());
                Poll::Pending
            }
        };
        wakers.wake_all();
        polled
    }

    /// `try_recv`: `Err(true)` means disconnected, `Err(false)` empty.
    pub(crate) fn try_pop(&self) -> Result<T, bool> {
        let mut wakers = WakeList::new();
        let popped = {
            let mut state = self.lock();
            match state.queue.pop_front() {
                Some(value) => {
                    state.free_slots(1, &mut wakers);
                    Ok(value)
                }
                None => Err(state.is_finished()),
            }
        };
        wakers.wake_all();
        popped
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().queue.len()
    }

    pub(crate) fn is_closed_for_rx(&self) -> bool {
        let state = self.lock();
        state.rx_closed || state.tx_closed
    }

    /// Rule 4: closes the channel for senders; queued senders fail.
    pub(crate) fn close(&self) {
        let mut wakers = WakeList::new();
        {
            let mut state = self.lock();
            state.rx_closed = true;
            state
                .send_waiters
                .drain_into(&mut wakers, |grant| *grant = Grant::Closed);
            state.closed_waiters.drain_into(&mut wakers, |_| {});
        }
        wakers.wake_all();
    }

    /// The receiver is gone: close, and drop every queued message now.
    pub(crate) fn drop_receiver(&self) {
        self.close();
        let drained = {
            let mut state = self.lock();
            state.rx_dropped = true;
            state.rx_waker = None;
            std::mem::take(&mut state.queue)
        };
        // Dropped outside the lock: a message's `Drop` may use the channel.
        drop(drained);
    }

    // ----- queued senders -----

    /// First poll of a reservation: a free slot now, or a place in line.
    fn reserve_or_enqueue(&self, cx: &mut Context<'_>) -> Result<Option<usize>, ()> {
        let mut state = self.lock();
        if state.rx_closed {
            return Err(());
        }
        if state.has_room(self.bound) {
            state.reserved += 1;
            return Ok(None);
        }
        let key = state
            .send_waiters
            .push_back(Some(cx.waker().clone()), Grant::Waiting);
        Ok(Some(key))
    }

    fn poll_grant(&self, key: usize, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        let mut state = self.lock();
        match *state.send_waiters.state(key) {
            Grant::Waiting => {
                state.send_waiters.set_waker(key, cx.waker());
                Poll::Pending
            }
            Grant::Granted => {
                state.send_waiters.remove(key);
                Poll::Ready(Ok(()))
            }
            Grant::Closed => {
                state.send_waiters.remove(key);
                Poll::Ready(Err(()))
            }
        }
    }

    /// Rule 2: a dropped waiter gives a granted slot on.
    fn cancel_grant(&self, key: usize) {
        let mut wakers = WakeList::new();
        {
            let mut state = self.lock();
            if state.send_waiters.remove(key) == Grant::Granted {
                state.return_reserved(&mut wakers);
            }
        }
        wakers.wake_all();
    }
}

impl<T> State<T> {
    fn used(&self) -> usize {
        self.queue.len() + self.reserved
    }

    fn has_room(&self, bound: usize) -> bool {
        self.used() < bound && self.send_waiters.is_empty()
    }

    /// Rule 4: nothing more can arrive.
    fn is_finished(&self) -> bool {
        self.tx_closed || (self.rx_closed && self.reserved == 0)
    }

    /// A reserved slot comes back unfilled: it goes to the next queued
    /// sender (rule 2); after `close` it may be the last one the receiver
    /// was waiting for (rule 4), so the receiver is woken to look.
    fn return_reserved(&mut self, wakers: &mut WakeList) {
        self.reserved -= 1;
        self.free_slots(1, wakers);
        if self.rx_closed {
            wakers.extend(self.rx_waker.take());
        }
    }

    /// Rule 2: `n` slots were freed; grant them to queued senders first.
    fn free_slots(&mut self, n: usize, wakers: &mut WakeList) {
        for _ in 0..n {
            let Some((key, waker)) = self.send_waiters.pop_front() else {
                return;
            };
            *self.send_waiters.state_mut(key) = Grant::Granted;
            self.reserved += 1;
            wakers.extend(waker);
        }
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Waits for a slot: the future behind `send` (when full) and `reserve`.
/// Resolves `Ok` with one slot counted in `reserved`, `Err` if closed.
pub(crate) struct Reserve<'a, T> {
    chan: &'a Chan<T>,
    key: Option<usize>,
}

impl<'a, T> Reserve<'a, T> {
    pub(crate) fn new(chan: &'a Chan<T>) -> Reserve<'a, T> {
        Reserve { chan, key: None }
    }
}

impl<T> Future for Reserve<'_, T> {
    type Output = Result<(), ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        let polled = match self.key {
            Some(key) => self.chan.poll_grant(key, cx),
            None => match self.chan.reserve_or_enqueue(cx) {
                Ok(None) => Poll::Ready(Ok(())),
                Ok(Some(key)) => {
                    self.key = Some(key);
                    return Poll::Pending;
                }
                Err(()) => Poll::Ready(Err(())),
            },
        };
        if polled.is_ready() {
            self.key = None;
        }
        polled
    }
}

impl<T> Drop for Reserve<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.chan.cancel_grant(key);
        }
    }
}

/// Waits until the receiver closes: the future behind `Sender::closed`.
pub(crate) struct RxClosed<'a, T> {
    chan: &'a Chan<T>,
    key: Option<usize>,
}

impl<'a, T> RxClosed<'a, T> {
    pub(crate) fn new(chan: &'a Chan<T>) -> RxClosed<'a, T> {
        RxClosed { chan, key: None }
    }
}

impl<T> Future for RxClosed<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.chan.poll_rx_closed(&mut this.key, cx)
    }
}

impl<T> Drop for RxClosed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.chan.cancel_closed_wait(key);
        }
    }
}

impl<T> fmt::Debug for Chan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Chan")
            .field("len", &state.queue.len())
            .field("bound", &self.bound)
            .field("senders", &self.sender_count())
            .field("closed", &(state.rx_closed || state.tx_closed))
            .finish()
    }
}
