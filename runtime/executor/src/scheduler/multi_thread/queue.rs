//! The bounded, lock-free run queue that each worker of the multi-thread
//! scheduler owns and that idle workers steal from (tokio's local queue
//! algorithm).
//!
//! The queue is a ring of [`LOCAL_QUEUE_CAPACITY`] slots addressed by
//! wrapping `u32` indexes (slot = index mod capacity). `tail`, written only
//! by the owner, is the next index to fill. `head` packs two indexes in one
//! `AtomicU64`: `real` (low half) is the next index to take, `steal` (high
//! half) the first index a stealer may still be reading. They are equal
//! except while a steal is in progress.
//!
//! - The owner pushes by writing slot `tail`, then publishing it with a
//!   `Release` store of `tail + 1`. It may do so while `tail - steal` is
//!   below the capacity: slots in `steal..real` still belong to a stealer.
//! - The owner pops by moving `real` (and `steal` with it, when equal) one
//!   index on with a CAS on `head`, racing stealers.
//! - A stealer claims half the items with a CAS that moves `real` on and
//!   leaves `steal` behind, moves the values into its own queue, then CASes
//!   `steal` up to `real`, freeing the slots. A stealer that finds a steal
//!   in progress (`steal != real`) gives up, so there is one at a time.
//! - A full owner hands half its items and the new one to an [`Overflow`]
//!   (the scheduler's injection queue), claiming the half with a CAS on
//!   `head` like a stealer; while a steal is in progress it hands over the
//!   new value alone.

use std::fmt;
use std::iter;
use std::mem::MaybeUninit;
use std::ptr;

use crate::loom::Ordering::{AcqRel, Acquire, Relaxed, Release};
use crate::loom::{Arc, AtomicU32, AtomicU64, UnsafeCell};

/// Number of slots of a worker's queue (small under loom, to keep the
/// models' state space small).
pub(crate) const LOCAL_QUEUE_CAPACITY: usize = if cfg!(loom) { 4 } else { 256 };

const CAPACITY: u32 = LOCAL_QUEUE_CAPACITY as u32;

/// Maps an index to its slot.
const MASK: u32 = CAPACITY - 1;

/// Half the capacity: the most a steal takes, and how many values a full
/// owner hands to the overflow besides the new one.
const HALF: u32 = CAPACITY / 2;

const _: () = assert!(LOCAL_QUEUE_CAPACITY.is_power_of_two() && LOCAL_QUEUE_CAPACITY >= 2);

/// Where a full queue sends values: the scheduler's injection queue.
pub(crate) trait Overflow<T> {
    /// Takes one value.
    fn push(&self, value: T);

    /// Takes a batch, oldest first. Implementations should consume the
    /// whole iterator; values left in it are dropped.
    fn push_batch<I: Iterator<Item = T>>(&self, iter: I);
}

/// The owner's side of a queue: pushes and pops. One per worker.
pub(crate) struct Local<T> {
    inner: Arc<Inner<T>>,
}

/// The stealers' side of a queue, shared with the other workers.
pub(crate) struct Steal<T>(Arc<Inner<T>>);

/// The state both sides share.
struct Inner<T> {
    /// `steal` (high 32 bits) and `real` (low 32 bits): see the module doc.
    head: AtomicU64,
    /// The next index to fill; only the owner stores it.
    tail: AtomicU32,
    /// The slots: those in `steal..tail` (mod capacity) hold a value.
    buffer: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: the values in `buffer` move between threads (owner, stealers) but
// every slot is accessed by one thread at a time: the protocol on `head` and
// `tail` hands the right to a slot over with Acquire/Release pairs.
unsafe impl<T: Send> Sync for Inner<T> {}

/// Creates an empty queue.
pub(crate) fn local<T: Send>() -> (Steal<T>, Local<T>) {
    let buffer = (0..LOCAL_QUEUE_CAPACITY)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let inner = Arc::new(Inner {
        head: AtomicU64::new(0),
        tail: AtomicU32::new(0),
        buffer,
    });
    (Steal(inner.clone()), Local { inner })
}

/// Splits `head` into `(steal, real)`.
fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}

/// Packs `steal` and `real` into a `head`.
fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

impl<T> Inner<T> {
    /// Number of values between `real` and `tail`.
    fn len(&self) -> u32 {
        let (_, real) = unpack(self.head.load(Acquire));
        self.tail.load(Acquire).wrapping_sub(real)
    }

    /// Moves the value out of the slot of `index`.
    ///
    /// # Safety
    /// The slot holds a value and the caller has the exclusive right to it
    /// (it claimed the index from `head`).
    unsafe fn take(&self, index: u32) -> T {
        self.buffer[(index & MASK) as usize].with_mut(|slot| {
            // SAFETY: the caller has the slot to itself and it holds a value.
            unsafe { ptr::read(slot).assume_init() }
        })
    }

    /// Writes `value` into the slot of `index`, which must then be published
    /// (by a store of `tail`) to be seen by others.
    ///
    /// # Safety
    /// The slot is free (no value, no reader) and the caller is the
    /// queue's owner: `index` is at or past `tail`, and below
    /// `steal + capacity`.
    unsafe fn put(&self, index: u32, value: T) {
        self.buffer[(index & MASK) as usize].with_mut(|slot| {
            // SAFETY: the caller has the slot to itself and it holds no value.
            unsafe { ptr::write(slot, MaybeUninit::new(value)) }
        });
    }
}

impl<T> Local<T> {
    /// Number of values in the queue.
    pub(crate) fn len(&self) -> usize {
        self.inner.len() as usize
    }

    /// Whether the queue holds no value.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of values [`Local::push_back`] may push now.
    pub(crate) fn remaining_slots(&self) -> usize {
        let (steal, _) = unpack(self.inner.head.load(Acquire));
        // Relaxed: only this side stores `tail`.
        let tail = self.inner.tail.load(Relaxed);
        (CAPACITY - tail.wrapping_sub(steal)) as usize
    }

    /// Pushes `values`, for which the caller made room (see
    /// [`Local::remaining_slots`]).
    ///
    /// # Panics
    /// If `values` do not fit.
    pub(crate) fn push_back(&mut self, values: impl ExactSizeIterator<Item = T>) {
        let room = self.remaining_slots();
        assert!(
            values.len() <= room,
            "Local::push_back: no room for the values"
        );
        let tail = self.inner.tail.load(Relaxed);
        let mut next = tail;
        for value in values {
            // An `ExactSizeIterator` may lie; an overrun would overwrite a
            // stealer's slots.
            assert!(
                next.wrapping_sub(tail) < room as u32,
                "Local::push_back: iterator overrun"
            );
            // SAFETY: `next` is below `tail + room`, that is below
            // `steal + capacity`, and only this side writes past `tail`.
            unsafe { self.inner.put(next, value) };
            next = next.wrapping_add(1);
        }
        // Release: publishes the values written above.
        self.inner.tail.store(next, Release);
    }

    /// Pushes `value`, or, when the queue is full, hands it to `overflow`
    /// together with half the queue (alone if a steal is in progress).
    pub(crate) fn push_back_or_overflow(&mut self, mut value: T, overflow: &impl Overflow<T>) {
        let tail = loop {
            // Acquire: a stealer's reads of the slots it frees happen before
            // this side writes them again.
            let (steal, real) = unpack(self.inner.head.load(Acquire));
            let tail = self.inner.tail.load(Relaxed);
            if tail.wrapping_sub(steal) < CAPACITY {
                break tail;
            }
            if steal != real {
                overflow.push(value);
                return;
            }
            match self.push_overflow(value, real, overflow) {
                Ok(()) => return,
                // A stealer moved `head` first: there may be room now.
                Err(back) => value = back,
            }
        };
        // SAFETY: `tail - steal` is below the capacity, so the slot of `tail`
        // is free, and only this side writes past `tail`.
        unsafe { self.inner.put(tail, value) };
        // Release: publishes the value.
        self.inner.tail.store(tail.wrapping_add(1), Release);
    }

    /// Moves the oldest half of a full queue (whose `steal` and `real` are
    /// both `head`) and `value` to `overflow`. Gives `value` back if a
    /// stealer moved `head` first.
    fn push_overflow(&mut self, value: T, head: u32, overflow: &impl Overflow<T>) -> Result<(), T> {
        let end = head.wrapping_add(HALF);
        // Release, like every update of `head`; Relaxed on failure: the
        // caller loads `head` again.
        if self
            .inner
            .head
            .compare_exchange(pack(head, head), pack(end, end), Release, Relaxed)
            .is_err()
        {
            return Err(value);
        }
        let claimed = Claimed {
            inner: &self.inner,
            next: head,
            end,
        };
        overflow.push_batch(claimed.chain(iter::once(value)));
        Ok(())
    }

    /// Takes the oldest value.
    pub(crate) fn pop(&mut self) -> Option<T> {
        let mut head = self.inner.head.load(Acquire);
        let index = loop {
            let (steal, real) = unpack(head);
            if real == self.inner.tail.load(Relaxed) {
                return None;
            }
            let next_real = real.wrapping_add(1);
            // `steal` follows `real` unless a stealer holds it back.
            let next_steal = if steal == real { next_real } else { steal };
            match self.inner.head.compare_exchange(
                head,
                pack(next_steal, next_real),
                AcqRel,
                Acquire,
            ) {
                Ok(_) => break real,
                Err(actual) => head = actual,
            }
        };
        // SAFETY: the CAS claimed `index`, which is below `tail`, so its slot
        // holds a value that nobody else may claim.
        Some(unsafe { self.inner.take(index) })
    }
}

impl<T> Drop for Local<T> {
    /// Drops the values left in the queue (the scheduler drains it first).
    fn drop(&mut self) {
        while self.pop().is_some() {}
    }
}

impl<T> fmt::Debug for Local<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Local").field("len", &self.len()).finish()
    }
}

/// The values of the indexes `next..end`, claimed by the owner for the
/// overflow. Dropping it drops the values not taken.
struct Claimed<'a, T> {
    inner: &'a Inner<T>,
    next: u32,
    end: u32,
}

impl<T> Iterator for Claimed<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.next == self.end {
            return None;
        }
        // SAFETY: the owner's CAS moved `steal` and `real` past `end`, so
        // nobody else reads these slots, which hold values; and the owner,
        // borrowed mutably while this lives, does not push into them.
        let value = unsafe { self.inner.take(self.next) };
        self.next = self.next.wrapping_add(1);
        Some(value)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = self.end.wrapping_sub(self.next) as usize;
        (len, Some(len))
    }
}

impl<T> Drop for Claimed<'_, T> {
    fn drop(&mut self) {
        self.for_each(drop);
    }
}

impl<T> Steal<T> {
    /// Number of values in the queue (a snapshot).
    pub(crate) fn len(&self) -> usize {
        self.0.len() as usize
    }

    /// Whether the queue holds no value (a snapshot).
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Steals half the values (rounded up) into `dst`, the thief's own
    /// queue, and returns one of them to run now. Returns `None` if there
    /// is nothing to steal, another steal is in progress, or `dst` has not
    /// room for half a queue. `dst` must not be this queue.
    pub(crate) fn steal_into(&self, dst: &mut Local<T>) -> Option<T> {
        // Relaxed: `dst` is the caller's own queue.
        let dst_tail = dst.inner.tail.load(Relaxed);
        // Acquire: the reads of the stealers of `dst` happen before the
        // writes below.
        let (dst_steal, _) = unpack(dst.inner.head.load(Acquire));
        if dst_tail.wrapping_sub(dst_steal) > CAPACITY - HALF {
            return None;
        }
        let (first, count) = self.claim()?;
        // SAFETY: `claim` gave this thief `first..first + count`; `count` is
        // at most half the capacity, for which `dst` has room.
        let value = unsafe { self.move_claimed(first, count, &dst.inner, dst_tail) };
        self.release(first, count);
        if count > 1 {
            // Release: publishes the values `move_claimed` wrote.
            dst.inner
                .tail
                .store(dst_tail.wrapping_add(count - 1), Release);
        }
        Some(value)
    }

    /// Claims half the values (rounded up) by moving `real` on and leaving
    /// `steal` behind. Returns the first claimed index and how many.
    fn claim(&self) -> Option<(u32, u32)> {
        let mut head = self.0.head.load(Acquire);
        loop {
            let (steal, real) = unpack(head);
            if steal != real {
                return None;
            }
            // Acquire: the owner's writes of the slots below `tail` happen
            // before the reads of `move_claimed`.
            let available = self.0.tail.load(Acquire).wrapping_sub(real);
            let count = available.div_ceil(2);
            if count == 0 {
                return None;
            }
            let next = pack(steal, real.wrapping_add(count));
            match self.0.head.compare_exchange(head, next, AcqRel, Acquire) {
                Ok(_) => return Some((real, count)),
                Err(actual) => head = actual,
            }
        }
    }

    /// Returns the value at `first` and moves the rest of the claimed
    /// `first..first + count` to `dst` from index `dst_tail` on.
    ///
    /// # Safety
    /// `claim` returned `(first, count)` to this thief, and `dst` is the
    /// thief's own queue, with `count - 1` free slots from its tail.
    unsafe fn move_claimed(&self, first: u32, count: u32, dst: &Inner<T>, dst_tail: u32) -> T {
        debug_assert!(0 < count && count <= HALF);
        for i in 1..count {
            // SAFETY: the index is claimed (caller's contract).
            let value = unsafe { self.0.take(first.wrapping_add(i)) };
            // SAFETY: the caller owns `dst` and has room past its tail.
            unsafe { dst.put(dst_tail.wrapping_add(i - 1), value) };
        }
        // SAFETY: the index is claimed (caller's contract).
        unsafe { self.0.take(first) }
    }

    /// Frees the claimed slots by moving `steal` up to `real` (which the
    /// owner's pops may have moved on since the claim).
    fn release(&self, first: u32, count: u32) {
        let mut head = pack(first, first.wrapping_add(count));
        loop {
            let (steal, real) = unpack(head);
            debug_assert_eq!(steal, first, "another steal ran concurrently");
            // AcqRel: the reads of `move_claimed` happen before the owner's
            // next writes of these slots (it loads `head` with Acquire).
            match self
                .0
                .head
                .compare_exchange(head, pack(real, real), AcqRel, Acquire)
            {
                Ok(_) => return,
                Err(actual) => head = actual,
            }
        }
    }
}

impl<T> Clone for Steal<T> {
    fn clone(&self) -> Steal<T> {
        Steal(self.0.clone())
    }
}

impl<T> fmt::Debug for Steal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Steal").field("len", &self.len()).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
    use std::sync::Mutex;
    use std::thread;
    use std::time::{Duration, Instant};

    /// How often each value was run and dropped.
    struct Table {
        runs: Vec<AtomicU8>,
        drops: Vec<AtomicU8>,
    }

    impl Table {
        fn new(len: usize) -> Table {
            let zeros = || (0..len).map(|_| AtomicU8::new(0)).collect();
            Table {
                runs: zeros(),
                drops: zeros(),
            }
        }

        fn assert_each_run_and_dropped_once(&self) {
            for (id, (runs, drops)) in self.runs.iter().zip(&self.drops).enumerate() {
                assert_eq!(runs.load(SeqCst), 1, "value {id} run count");
                assert_eq!(drops.load(SeqCst), 1, "value {id} drop count");
            }
        }
    }

    /// A value that counts its runs and drops in a `Table`.
    struct Tracked<'a> {
        id: usize,
        table: &'a Table,
    }

    impl<'a> Tracked<'a> {
        fn new(id: usize, table: &'a Table) -> Tracked<'a> {
            Tracked { id, table }
        }

        fn run(self) {
            self.table.runs[self.id].fetch_add(1, SeqCst);
        }
    }

    impl Drop for Tracked<'_> {
        fn drop(&mut self) {
            let before = self.table.drops[self.id].fetch_add(1, SeqCst);
            assert_eq!(before, 0, "value {} dropped twice", self.id);
        }
    }

    /// An overflow that keeps the values and counts the calls.
    struct Collect<T> {
        values: Mutex<Vec<T>>,
        singles: AtomicUsize,
        batches: AtomicUsize,
    }

    impl<T> Collect<T> {
        fn new() -> Collect<T> {
            Collect {
                values: Mutex::new(Vec::new()),
                singles: AtomicUsize::new(0),
                batches: AtomicUsize::new(0),
            }
        }

        fn take(&self) -> Vec<T> {
            std::mem::take(&mut *self.values.lock().unwrap())
        }
    }

    impl<T> Overflow<T> for Collect<T> {
        fn push(&self, value: T) {
            self.singles.fetch_add(1, SeqCst);
            self.values.lock().unwrap().push(value);
        }

        fn push_batch<I: Iterator<Item = T>>(&self, iter: I) {
            self.batches.fetch_add(1, SeqCst);
            self.values.lock().unwrap().extend(iter);
        }
    }

    fn drain<T>(local: &mut Local<T>) -> Vec<T> {
        iter::from_fn(|| local.pop()).collect()
    }

    const CAP: usize = LOCAL_QUEUE_CAPACITY;

    #[test]
    fn fifo_and_overflow_of_half_plus_new() {
        let (_steal, mut local) = local();
        let overflow = Collect::new();
        for value in 0..CAP {
            local.push_back_or_overflow(value, &overflow);
        }
        assert_eq!((local.len(), local.remaining_slots()), (CAP, 0));
        assert_eq!(local.pop(), Some(0));
        local.push_back_or_overflow(CAP, &overflow);
        assert!(overflow.take().is_empty());

        local.push_back_or_overflow(CAP + 1, &overflow);
        let mut expected: Vec<usize> = (1..=CAP / 2).collect();
        expected.push(CAP + 1);
        assert_eq!(overflow.take(), expected);
        assert_eq!(overflow.batches.load(SeqCst), 1);
        assert_eq!(drain(&mut local), (CAP / 2 + 1..=CAP).collect::<Vec<_>>());
        assert!(local.is_empty());
        assert_eq!(local.remaining_slots(), CAP);
    }

    #[test]
    fn push_back_fills_the_room() {
        let (_steal, mut local) = local();
        local.push_back(0..CAP - 1);
        local.push_back(CAP - 1..CAP);
        assert_eq!(local.remaining_slots(), 0);
        assert_eq!(drain(&mut local), (0..CAP).collect::<Vec<_>>());
    }

    #[test]
    #[should_panic(expected = "no room")]
    fn push_back_without_room_panics() {
        let (_steal, mut local) = local();
        local.push_back(0..CAP + 1);
    }

    #[test]
    fn steal_takes_half_rounded_up_and_returns_the_oldest() {
        let (steal, mut victim) = local();
        let (_, mut thief) = local();
        victim.push_back(0..5);
        assert_eq!(steal.steal_into(&mut thief), Some(0));
        assert_eq!(drain(&mut thief), [1, 2]);
        assert_eq!((steal.len(), victim.len()), (2, 2));
        // One of two; a steal of one value leaves the thief's queue alone.
        assert_eq!(steal.steal_into(&mut thief), Some(3));
        assert!(thief.is_empty());
        assert_eq!(steal.steal_into(&mut thief), Some(4));
        assert!(thief.is_empty() && steal.is_empty() && victim.is_empty());
        assert_eq!(steal.steal_into(&mut thief), None);
    }

    #[test]
    fn steal_needs_room_for_half_a_queue() {
        let (steal, mut victim) = local();
        let (_, mut thief) = local();
        victim.push_back(0..4);
        thief.push_back(0..CAP / 2 + 1);
        assert_eq!(steal.steal_into(&mut thief), None);
        thief.pop();
        assert_eq!(steal.steal_into(&mut thief), Some(0));
        assert_eq!(thief.remaining_slots(), CAP / 2 - 1);
    }

    #[test]
    fn drop_drops_the_values_left() {
        let table = Table::new(CAP);
        let (steal, mut local) = local();
        local.push_back((0..CAP).map(|id| Tracked::new(id, &table)));
        for value in drain_n(&mut local, 3) {
            value.run();
        }
        for id in 3..CAP {
            table.runs[id].store(1, SeqCst);
        }
        drop(local);
        assert!(steal.is_empty());
        table.assert_each_run_and_dropped_once();
    }

    fn drain_n<T>(local: &mut Local<T>, n: usize) -> Vec<T> {
        iter::from_fn(|| local.pop()).take(n).collect()
    }

    /// A thief: pops one value of its own queue and steals from `victim`,
    /// in turns, until `done` and `victim` is empty. Counts the values it
    /// steals in `stolen`.
    fn thief<'a>(victim: &Steal<Tracked<'a>>, done: &AtomicBool, stolen: &AtomicUsize) {
        let (_, mut mine) = local::<Tracked<'a>>();
        loop {
            if let Some(value) = mine.pop() {
                value.run();
            }
            let finished = done.load(SeqCst);
            let before = mine.len();
            match victim.steal_into(&mut mine) {
                Some(value) => {
                    stolen.fetch_add(1 + mine.len() - before, SeqCst);
                    value.run();
                }
                None if finished && victim.is_empty() => break,
                None => thread::yield_now(),
            }
        }
        drain(&mut mine).into_iter().for_each(Tracked::run);
    }

    /// What a run of `with_thieves` saw.
    struct Counts {
        stolen: usize,
        singles: usize,
        batches: usize,
    }

    /// Runs `owner` on a queue while `thieves` threads steal from it, then
    /// drains the queue (once something was stolen, or after 5 s) and the
    /// overflow, and checks that every value of `0..len` ran and was
    /// dropped exactly once.
    fn with_thieves(
        len: usize,
        thieves: usize,
        owner: impl for<'a> FnOnce(&mut Local<Tracked<'a>>, &Collect<Tracked<'a>>, &'a Table),
    ) -> Counts {
        let table = Table::new(len);
        let overflow = Collect::new();
        let (steal, mut local) = local();
        let done = AtomicBool::new(false);
        let stolen = AtomicUsize::new(0);
        thread::scope(|scope| {
            for _ in 0..thieves {
                scope.spawn(|| thief(&steal, &done, &stolen));
            }
            owner(&mut local, &overflow, &table);
            let start = Instant::now();
            while stolen.load(SeqCst) == 0
                && !local.is_empty()
                && start.elapsed() < Duration::from_secs(5)
            {
                thread::yield_now();
            }
            drain(&mut local).into_iter().for_each(Tracked::run);
            done.store(true, SeqCst);
        });
        overflow.take().into_iter().for_each(Tracked::run);
        table.assert_each_run_and_dropped_once();
        Counts {
            stolen: stolen.into_inner(),
            singles: overflow.singles.into_inner(),
            batches: overflow.batches.into_inner(),
        }
    }

    #[test]
    fn owner_pushing_and_popping_against_three_thieves() {
        const LEN: usize = 200_000;
        let counts = with_thieves(LEN, 3, |local, overflow, table| {
            for id in 0..LEN {
                local.push_back_or_overflow(Tracked::new(id, table), overflow);
                if id % 2 == 0 {
                    if let Some(value) = local.pop() {
                        value.run();
                    }
                }
            }
        });
        assert!(counts.stolen > 0);
    }

    #[test]
    fn overflow_against_two_thieves() {
        const LEN: usize = 100_000;
        let Counts {
            stolen,
            singles,
            batches,
        } = with_thieves(LEN, 2, |local, overflow, table| {
            for id in 0..LEN {
                local.push_back_or_overflow(Tracked::new(id, table), overflow);
            }
        });
        assert!(
            stolen > 0 && batches > 0,
            "stolen {stolen}, batches {batches}"
        );
        eprintln!("stolen {stolen}, overflow: {singles} single, {batches} batches");
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::model;
    use crate::loom::thread;
    use std::cell::RefCell;

    /// An overflow used by the owner's thread alone.
    #[derive(Default)]
    struct Collect(RefCell<Vec<usize>>);

    impl Overflow<usize> for Collect {
        fn push(&self, value: usize) {
            self.0.borrow_mut().push(value);
        }

        fn push_batch<I: Iterator<Item = usize>>(&self, iter: I) {
            self.0.borrow_mut().extend(iter);
        }
    }

    /// Spawns a thief that steals once from `victim` into a queue of its
    /// own, and returns all it got.
    fn thief(victim: &Steal<usize>) -> thread::JoinHandle<Vec<usize>> {
        let victim = victim.clone();
        thread::spawn(move || {
            let (_, mut mine) = local();
            let mut got: Vec<usize> = victim.steal_into(&mut mine).into_iter().collect();
            got.extend(iter::from_fn(|| mine.pop()));
            got
        })
    }

    /// Checks that `got`, from the owner, the thieves and the overflow,
    /// holds each value of `0..len` exactly once.
    fn assert_each_once(
        mut got: Vec<usize>,
        local: &mut Local<usize>,
        thieves: Vec<thread::JoinHandle<Vec<usize>>>,
        overflow: Collect,
        len: usize,
    ) {
        got.extend(iter::from_fn(|| local.pop()));
        for thief in thieves {
            got.extend(thief.join().unwrap());
        }
        got.extend(overflow.0.into_inner());
        got.sort_unstable();
        assert_eq!(got, (0..len).collect::<Vec<_>>());
    }

    #[test]
    fn owner_push_pop_against_a_thief() {
        // Exhaustive takes over a minute.
        model(Some(5), || {
            let (steal, mut local) = local();
            let overflow = Collect::default();
            let thieves = vec![thief(&steal)];
            for value in 0..3 {
                local.push_back_or_overflow(value, &overflow);
            }
            let got = local.pop().into_iter().collect();
            for value in 3..5 {
                local.push_back_or_overflow(value, &overflow);
            }
            assert_each_once(got, &mut local, thieves, overflow, 5);
        });
    }

    #[test]
    fn owner_against_two_thieves() {
        // Three threads: bound 4 takes 20 s, exhaustive minutes.
        model(Some(3), || {
            let (steal, mut local) = local();
            let overflow = Collect::default();
            local.push_back(0..4);
            let thieves = vec![thief(&steal), thief(&steal)];
            // Wraps around the ring, into the slots the thieves read.
            for value in 4..7 {
                local.push_back_or_overflow(value, &overflow);
            }
            assert_each_once(Vec::new(), &mut local, thieves, overflow, 7);
        });
    }

    #[test]
    fn overflow_while_a_thief_steals() {
        model(None, || {
            let (steal, mut local) = local();
            let overflow = Collect::default();
            local.push_back(0..4);
            let thieves = vec![thief(&steal)];
            for value in 4..6 {
                local.push_back_or_overflow(value, &overflow);
            }
            assert_each_once(Vec::new(), &mut local, thieves, overflow, 6);
        });
    }

    #[test]
    fn steal_of_one_against_pop() {
        model(None, || {
            let (steal, mut local) = local();
            local.push_back(iter::once(0));
            let thieves = vec![thief(&steal)];
            let got = local.pop().into_iter().collect();
            assert_each_once(got, &mut local, thieves, Collect::default(), 1);
        });
    }
}
