//! The broadcast channel's ring of values: plain data, kept under the
//! channel's lock, so nothing here is concurrent.
//!
//! # Invariants
//!
//! 1. Positions count every value ever sent; `tail` is the position the
//!    next value gets. For every position `pos` in `[oldest, tail)`, where
//!    `oldest = tail - capacity` (or 0 early on), slot `pos & mask` holds
//!    position `pos`. Older positions have been overwritten.
//! 2. A receiver is a cursor `next`: the position it reads next. A cursor
//!    below `oldest` has *lagged* by `oldest - next` values.
//! 3. A slot holds its value while `unseen > 0`, where `unseen` counts the
//!    receivers that were subscribed when it was sent and have neither
//!    read it nor been dropped. The receiver that takes `unseen` to zero
//!    takes the value out (moving instead of cloning it); an overwrite
//!    takes it out too. Either way the value leaves the ring and its drop
//!    is up to the caller, who does it after unlocking.
//! 4. `queued` counts the slots that hold a value.

/// The ring of the last `capacity` values sent.
#[derive(Debug)]
pub(super) struct Ring<T> {
    slots: Box<[Slot<T>]>,
    /// `capacity - 1`; the capacity is a power of two.
    mask: usize,
    /// The position of the next value sent (invariant 1).
    tail: u64,
    /// Slots holding a value (invariant 4).
    queued: usize,
}

/// One value and the receivers that have yet to see it.
#[derive(Debug)]
struct Slot<T> {
    pos: u64,
    unseen: usize,
    value: Option<T>,
}

/// What a receiver finds at its cursor.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Read<T> {
    /// The value at the cursor; the cursor moved past it.
    Value(T),
    /// The cursor had fallen this many values behind; it now points at the
    /// oldest value kept.
    Lagged(u64),
    /// The cursor is at the tail: nothing has been sent since.
    Empty,
}

impl<T> Ring<T> {
    /// A ring of `capacity` slots, which must be a power of two.
    pub(super) fn with_capacity(capacity: usize) -> Ring<T> {
        debug_assert!(capacity.is_power_of_two());
        let slots = (0..capacity)
            .map(|_| Slot {
                pos: 0,
                unseen: 0,
                value: None,
            })
            .collect();
        Ring {
            slots,
            mask: capacity - 1,
            tail: 0,
            queued: 0,
        }
    }

    /// The position the next value sent will get: where a new receiver's
    /// cursor starts.
    pub(super) fn tail(&self) -> u64 {
        self.tail
    }

    /// Values still waiting for at least one receiver.
    pub(super) fn queued(&self) -> usize {
        self.queued
    }

    /// Values sent that the cursor `next` has not read, including any it
    /// has lagged past.
    pub(super) fn unread(&self, next: u64) -> u64 {
        self.tail - next
    }

    /// The oldest position still in the ring (invariant 1).
    fn oldest(&self) -> u64 {
        self.tail.saturating_sub(self.slots.len() as u64)
    }

    fn slot_mut(&mut self, pos: u64) -> &mut Slot<T> {
        // Truncating is the point: the low bits pick the slot.
        &mut self.slots[pos as usize & self.mask]
    }

    /// Writes `value` at the tail for `receivers` receivers, and returns
    /// the value it overwrote, if one was still unseen, for the caller to
    /// drop after unlocking.
    pub(super) fn push(&mut self, value: T, receivers: usize) -> Option<T> {
        debug_assert!(receivers > 0, "a value nobody will read is not sent");
        let pos = self.tail;
        let slot = self.slot_mut(pos);
        let overwritten = slot.value.replace(value);
        slot.pos = pos;
        slot.unseen = receivers;
        self.tail += 1;
        if overwritten.is_none() {
            self.queued += 1;
        }
        overwritten
    }

    /// Reads the value at the cursor `next` for one receiver and advances
    /// the cursor, or reports that it lagged, or that nothing is there.
    pub(super) fn read(&mut self, next: &mut u64) -> Read<T>
    where
        T: Clone,
    {
        let oldest = self.oldest();
        if *next < oldest {
            let missed = oldest - *next;
            *next = oldest;
            return Read::Lagged(missed);
        }
        if *next == self.tail {
            return Read::Empty;
        }
        let value = self.see(*next, Slot::value_for_reader);
        *next += 1;
        Read::Value(value.expect("an unseen value is still in its slot (invariant 3)"))
    }

    /// Releases a dropped receiver's claim on every value from its cursor
    /// `next` to the tail, and returns the values it was the last to claim.
    pub(super) fn release(&mut self, next: u64) -> Vec<T> {
        let mut freed = Vec::new();
        for pos in next.max(self.oldest())..self.tail {
            freed.extend(self.see(pos, |_| None));
        }
        freed
    }

    /// Marks `pos` as seen by one receiver, which gets `read(slot)` while
    /// others still wait for the value, or the value itself if it was the
    /// last (invariant 3).
    fn see(&mut self, pos: u64, read: impl FnOnce(&Slot<T>) -> Option<T>) -> Option<T> {
        let slot = self.slot_mut(pos);
        debug_assert_eq!(slot.pos, pos, "the slot was overwritten (invariant 1)");
        slot.unseen -= 1;
        if slot.unseen > 0 {
            return read(slot);
        }
        let value = slot.value.take();
        self.queued -= 1;
        value
    }
}

impl<T: Clone> Slot<T> {
    /// A copy of the value for a reader that is not the last to see it.
    fn value_for_reader(&self) -> Option<T> {
        self.value.clone()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn ring_with(capacity: usize, values: &[u32], receivers: usize) -> Ring<u32> {
        let mut ring = Ring::with_capacity(capacity);
        for &value in values {
            ring.push(value, receivers);
        }
        ring
    }

    #[test]
    fn each_cursor_reads_every_value_and_the_last_reader_frees_it() {
        let mut ring = ring_with(4, &[1, 2, 3], 2);
        let (mut a, mut b) = (0, 0);
        assert_eq!(ring.read(&mut a), Read::Value(1));
        assert_eq!(ring.queued(), 3);
        assert_eq!(ring.read(&mut b), Read::Value(1));
        assert_eq!(ring.queued(), 2);
        assert_eq!(ring.unread(a), 2);
        assert_eq!(ring.release(a), Vec::<u32>::new());
        assert_eq!(ring.release(b), vec![2, 3]);
        assert_eq!(ring.queued(), 0);
    }

    #[test]
    fn a_cursor_past_the_ring_lags_then_resumes_at_the_oldest_value() {
        let mut ring = ring_with(2, &[10, 20, 30, 40, 50], 1);
        let mut next = 0;
        assert_eq!(ring.read(&mut next), Read::Lagged(3));
        assert_eq!(ring.read(&mut next), Read::Value(40));
        assert_eq!(ring.read(&mut next), Read::Value(50));
        assert_eq!(ring.read(&mut next), Read::Empty);
        assert_eq!(ring.queued(), 0);
    }

    #[test]
    fn overwriting_an_unseen_value_hands_it_back() {
        let mut ring = ring_with(2, &[1, 2], 1);
        assert_eq!(ring.push(3, 1), Some(1));
        assert_eq!(ring.queued(), 2);
        let mut next = 0;
        ring.read(&mut next);
        ring.read(&mut next);
        assert_eq!(ring.queued(), 1);
        assert_eq!(ring.push(4, 1), None, "a value all have seen is gone");
    }

    #[test]
    fn a_lagged_cursor_releases_only_what_the_ring_still_holds() {
        let mut ring = ring_with(2, &[1, 2, 3], 1);
        assert_eq!(ring.release(0), vec![2, 3]);
        assert_eq!(ring.queued(), 0);
    }
}
