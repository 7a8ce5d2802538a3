//! The waiter list every primitive in this crate parks its futures on.
//!
//! A FIFO of waiting futures kept in a [`Slab`], linked through slot
//! indices (the intrusive-list idea without pointers, so without `unsafe`).
//! It lives inside the primitive's mutex; nothing here is concurrent.
//!
//! # Protocol
//!
//! 1. A future that must wait calls [`WaitList::push_back`] and keeps the
//!    returned key. The slot is the future's: only the future frees it,
//!    with [`WaitList::remove`], when it completes or is dropped. Keys are
//!    therefore never stale.
//! 2. A notifier *dequeues* a waiter ([`WaitList::pop_front`]): it unlinks
//!    the slot, writes the outcome into the slot's state and wakes the
//!    waker after releasing the lock (wakers may run arbitrary code).
//! 3. A future that is dropped after it was dequeued but before it saw its
//!    outcome finds the outcome in its slot and hands on what it was given
//!    (a permit, a notification, a slot in a channel): cancellation never
//!    loses anything.

use std::task::Waker;

use slab::Slab;

/// No slot: the end of the list.
const NIL: usize = usize::MAX;

/// One waiting future: its waker, its link, and the state the primitive
/// keeps for it (permits still wanted, "notified", ...).
#[derive(Debug)]
struct Slot<S> {
    waker: Option<Waker>,
    state: S,
    prev: usize,
    next: usize,
    queued: bool,
}

/// A FIFO of waiters, O(1) push, pop and removal from the middle.
#[derive(Debug)]
pub(crate) struct WaitList<S> {
    slots: Slab<Slot<S>>,
    head: usize,
    tail: usize,
    queued: usize,
}

impl<S> WaitList<S> {
    pub(crate) const fn new() -> WaitList<S> {
        WaitList {
            slots: Slab::new(),
            head: NIL,
            tail: NIL,
            queued: 0,
        }
    }

    /// True if no waiter is queued (dequeued slots still held by their
    /// futures do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// Queues a waiter at the back and returns its key.
    pub(crate) fn push_back(&mut self, waker: Option<Waker>, state: S) -> usize {
        if self.slots.capacity() == 0 {
            // Most lists never hold more than one waiter (a connection's
            // child token, a oneshot): room for one, not the four a first
            // push would otherwise reserve, which the list keeps for life.
            self.slots.reserve_exact(1);
        }
        let key = self.slots.insert(Slot {
            waker,
            state,
            prev: self.tail,
            next: NIL,
            queued: true,
        });
        match self.tail {
            NIL => self.head = key,
            tail => self.slots[tail].next = key,
        }
        self.tail = key;
        self.queued += 1;
        key
    }

    /// The key of the first queued waiter.
    pub(crate) fn front(&self) -> Option<usize> {
        (self.head != NIL).then_some(self.head)
    }

    /// Unlinks the first queued waiter and returns its key and waker.
    pub(crate) fn pop_front(&mut self) -> Option<(usize, Option<Waker>)> {
        let key = self.front()?;
        Some((key, self.dequeue(key)))
    }

    /// Unlinks `key` from the queue (if queued) and takes its waker. The
    /// slot stays allocated for its future.
    pub(crate) fn dequeue(&mut self, key: usize) -> Option<Waker> {
        let slot = &mut self.slots[key];
        if !slot.queued {
            return None;
        }
        slot.queued = false;
        let (prev, next) = (slot.prev, slot.next);
        let waker = slot.waker.take();
        match prev {
            NIL => self.head = next,
            prev => self.slots[prev].next = next,
        }
        match next {
            NIL => self.tail = prev,
            next => self.slots[next].prev = prev,
        }
        self.queued -= 1;
        waker
    }

    /// Frees the slot of `key` (protocol rule 1), unlinking it if it is
    /// still queued, and returns its final state.
    pub(crate) fn remove(&mut self, key: usize) -> S {
        self.dequeue(key);
        self.slots.remove(key).state
    }

    /// True while `key` has not been dequeued by a notifier.
    pub(crate) fn is_queued(&self, key: usize) -> bool {
        self.slots[key].queued
    }

    pub(crate) fn state(&self, key: usize) -> &S {
        &self.slots[key].state
    }

    pub(crate) fn state_mut(&mut self, key: usize) -> &mut S {
        &mut self.slots[key].state
    }

    /// Stores `waker` for a queued waiter, skipping the clone when the old
    /// one would wake the same task.
    pub(crate) fn set_waker(&mut self, key: usize, waker: &Waker) {
        let slot = &mut self.slots[key];
        match &mut slot.waker {
            Some(old) if old.will_wake(waker) => {}
            old => *old = Some(waker.clone()),
        }
    }

    /// Dequeues every waiter, applying `outcome` to each state, and collects
    /// their wakers.
    pub(crate) fn drain_into(&mut self, wakers: &mut WakeList, mut outcome: impl FnMut(&mut S)) {
        while let Some((key, waker)) = self.pop_front() {
            outcome(&mut self.slots[key].state);
            wakers.extend(waker);
        }
    }
}

/// A future's place on a `WaitList<()>`: none until it first waits.
#[derive(Debug, Default)]
pub(crate) struct WaitSlot(Option<usize>);

impl WaitSlot {
    /// Queues the future with `waker`, or updates its waker if it is still
    /// queued. A dequeued future queues again at the back (protocol rule 3 of the module using it).
    pub(crate) fn wait(&mut self, list: &mut WaitList<()>, waker: &Waker) {
        match self.0 {
            Some(key) if list.is_queued(key) => list.set_waker(key, waker),
            stale => {
                if let Some(key) = stale {
                    list.remove(key);
                }
                self.0 = Some(list.push_back(Some(waker.clone()), ()));
            }
        }
    }

    /// Gives the slot back, if the future has one.
    pub(crate) fn leave(&mut self, list: &mut WaitList<()>) {
        if let Some(key) = self.0.take() {
            list.remove(key);
        }
    }

    pub(crate) fn is_held(&self) -> bool {
        self.0.is_some()
    }
}

/// Wakers collected under a lock, woken after it is released.
///
/// Most releases wake one task, so the first waker is kept inline: waking
/// one waiter never allocates or loops; more spill to a `Vec`.
#[derive(Debug, Default)]
pub(crate) struct WakeList {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl WakeList {
    pub(crate) fn new() -> WakeList {
        WakeList::default()
    }

    pub(crate) fn push(&mut self, waker: Waker) {
        match self.first {
            None => self.first = Some(waker),
            Some(_) => self.rest.push(waker),
        }
    }

    pub(crate) fn extend(&mut self, waker: Option<Waker>) {
        if let Some(waker) = waker {
            self.push(waker);
        }
    }

    /// Wakes everything collected. Call it with no lock held.
    pub(crate) fn wake_all(self) {
        if let Some(first) = self.first {
            first.wake();
        }
        for waker in self.rest {
            waker.wake();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn keys_in_order(list: &mut WaitList<u32>) -> Vec<u32> {
        let mut out = Vec::new();
        while let Some((key, _)) = list.pop_front() {
            out.push(list.remove(key));
        }
        out
    }

    #[test]
    fn fifo_order_survives_removal_from_the_middle() {
        let mut list = WaitList::new();
        let keys: Vec<usize> = (0..5).map(|i| list.push_back(None, i)).collect();
        assert_eq!(list.remove(keys[2]), 2);
        assert_eq!(list.remove(keys[0]), 0);
        assert_eq!(list.remove(keys[4]), 4);
        list.push_back(None, 5);
        assert_eq!(keys_in_order(&mut list), vec![1, 3, 5]);
        assert!(list.is_empty());
    }

    #[test]
    fn dequeued_slot_keeps_its_state_until_removed() {
        let mut list = WaitList::new();
        let a = list.push_back(None, 10);
        let b = list.push_back(None, 20);
        let (first, _) = list.pop_front().unwrap();
        assert_eq!(first, a);
        assert!(!list.is_queued(a));
        *list.state_mut(a) += 1;
        assert_eq!(list.front(), Some(b));
        assert_eq!(list.remove(a), 11);
        assert_eq!(list.remove(b), 20);
        assert!(list.is_empty());
    }

    #[test]
    fn wake_list_wakes_every_waker_it_collected() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use std::task::Wake;

        struct Count(AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let mut list = WakeList::new();
        for _ in 0..20 {
            list.push(Waker::from(count.clone()));
        }
        list.wake_all();
        assert_eq!(count.0.load(Ordering::SeqCst), 20);
    }
}
