//! The hierarchical timing wheel: O(1) insert and cancel, 1 ms slots.
//!
//! Six levels of 64 slots; a slot at level `L` spans `64^L` ms, so the
//! wheel covers 2^36 ms (about 2.2 years) ahead of `elapsed`; later
//! deadlines sit in the top level and are placed again when it comes round.
//! An entry lives in the level where its tick first differs from `elapsed`
//! (the highest 6-bit group in which the two differ), so every level-0
//! entry is due before every level-1 entry, and so on.
//!
//! Unlike a classic wheel, entries keep their exact deadline in
//! nanoseconds: an entry fires when the clock passes its deadline, not at
//! the end of its millisecond, and [`Wheel::next_deadline`] gives the exact
//! earliest deadline so the reactor can sleep until it (with
//! `epoll_pwait2`) instead of rounding up to the next slot and then up to
//! the next millisecond of `epoll_wait` (tokio's ~2 ms p99 lateness).
//!
//! Slots are intrusive doubly-linked lists threaded through a slab of
//! entries, so cancelling is an unlink.

use std::task::Waker;

use slab::Slab;

const LEVELS: usize = 6;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
/// Ticks the wheel can place exactly: 64^6 ms.
const RANGE: u64 = 1 << (SLOT_BITS * LEVELS as u32);
/// Nanoseconds per tick: the resolution of slots, not of firing.
pub(crate) const TICK_NS: u64 = 1_000_000;
const NIL: usize = usize::MAX;

#[derive(Debug)]
struct Entry {
    deadline: u64,
    waker: Option<Waker>,
    fired: bool,
    /// `(level, slot)` while linked into a slot.
    position: Option<(usize, usize)>,
    prev: usize,
    next: usize,
}

/// Where the next slot to expire is, and the tick at which it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expiration {
    level: usize,
    slot: usize,
    tick: u64,
}

/// A hierarchical timing wheel over nanosecond deadlines.
///
/// # Invariant
/// Every linked entry that has not fired has `tick(deadline) >= elapsed`
/// or sits in the current level-0 slot (`elapsed`), which may hold entries
/// due later within the same millisecond.
#[derive(Debug)]
pub(crate) struct Wheel {
    entries: Slab<Entry>,
    heads: [[usize; SLOTS]; LEVELS],
    occupied: [u64; LEVELS],
    /// The tick (ms) up to which slots have been processed.
    elapsed: u64,
    /// Entries due later within the current tick, put back after `process`.
    deferred: Vec<usize>,
    /// The deadline (ns) the reactor's current wait ends at, so that a timer
    /// inserted from another thread knows whether it must wake the reactor.
    pub(crate) wait_until: u64,
    /// The clock reading (ns) of the last `process`: a deadline at or before
    /// it is already due, which spares new timers a clock read.
    processed_up_to: u64,
}

impl Default for Wheel {
    fn default() -> Wheel {
        Wheel {
            entries: Slab::new(),
            heads: [[NIL; SLOTS]; LEVELS],
            occupied: [0; LEVELS],
            elapsed: 0,
            deferred: Vec::new(),
            wait_until: u64::MAX,
            processed_up_to: 0,
        }
    }
}

fn level_for(elapsed: u64, tick: u64) -> usize {
    let masked = ((elapsed ^ tick) | (SLOTS as u64 - 1)).min(RANGE - 1);
    let significant = 63 - masked.leading_zeros();
    (significant / SLOT_BITS) as usize
}

fn slot_for(tick: u64, level: usize) -> usize {
    ((tick >> (SLOT_BITS * level as u32)) & (SLOTS as u64 - 1)) as usize
}

impl Wheel {
    /// Whether `deadline` (ns) had passed when timers were last processed.
    pub(crate) fn is_due(&self, deadline: u64) -> bool {
        deadline <= self.processed_up_to
    }

    /// Whether `deadline` (ns) ends before the reactor's current wait does.
    pub(crate) fn is_before_wait(&self, deadline: u64) -> bool {
        deadline < self.wait_until
    }

    /// Adds a timer for `deadline` (ns) that wakes `waker`; returns its key.
    pub(crate) fn insert(&mut self, deadline: u64, waker: Waker) -> usize {
        let key = self.entries.insert(Entry {
            deadline,
            waker: Some(waker),
            fired: false,
            position: None,
            prev: NIL,
            next: NIL,
        });
        self.link(key);
        key
    }

    /// Cancels and forgets the timer `key`.
    pub(crate) fn remove(&mut self, key: usize) {
        self.unlink(key);
        self.entries.remove(key);
    }

    /// Moves timer `key` to `deadline`, re-arming it if it had fired.
    pub(crate) fn reset(&mut self, key: usize, deadline: u64) {
        self.unlink(key);
        let entry = &mut self.entries[key];
        entry.deadline = deadline;
        entry.fired = false;
        self.link(key);
    }

    /// Whether timer `key` fired; if not, `waker` is the one it will wake.
    pub(crate) fn poll(&mut self, key: usize, waker: &Waker) -> bool {
        let entry = &mut self.entries[key];
        if entry.fired {
            return true;
        }
        match &entry.waker {
            Some(current) if current.will_wake(waker) => {}
            _ => entry.waker = Some(waker.clone()),
        }
        false
    }

    /// How many timers are registered (fired or not).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The exact earliest deadline (ns) among pending timers, or the start of
    /// the next higher-level slot, where entries must be placed again.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        let exp = self.next_expiration()?;
        if exp.level > 0 {
            return Some(exp.tick * TICK_NS);
        }
        let mut earliest = u64::MAX;
        let mut key = self.heads[0][exp.slot];
        while key != NIL {
            earliest = earliest.min(self.entries[key].deadline);
            key = self.entries[key].next;
        }
        Some(earliest)
    }

    /// Fires every timer due at `now` (ns), pushing their wakers to `wakers`.
    pub(crate) fn process(&mut self, now: u64, wakers: &mut Vec<Waker>) {
        let now_tick = now / TICK_NS;
        self.processed_up_to = self.processed_up_to.max(now);
        while let Some(exp) = self.next_expiration() {
            if exp.tick > now_tick {
                break;
            }
            self.elapsed = self.elapsed.max(exp.tick);
            let mut key = std::mem::replace(&mut self.heads[exp.level][exp.slot], NIL);
            self.occupied[exp.level] &= !(1 << exp.slot);
            while key != NIL {
                let entry = &mut self.entries[key];
                let next = entry.next;
                entry.position = None;
                entry.prev = NIL;
                entry.next = NIL;
                if entry.deadline <= now {
                    entry.fired = true;
                    wakers.extend(entry.waker.take());
                } else if entry.deadline / TICK_NS <= now_tick {
                    self.deferred.push(key);
                } else {
                    self.link(key);
                }
                key = next;
            }
        }
        self.elapsed = self.elapsed.max(now_tick);
        while let Some(key) = self.deferred.pop() {
            self.link(key);
        }
    }

    /// Fires every timer, whatever its deadline (the reactor is shutting down).
    pub(crate) fn fire_all(&mut self, wakers: &mut Vec<Waker>) {
        for (_, entry) in self.entries.iter_mut() {
            entry.fired = true;
            wakers.extend(entry.waker.take());
        }
    }

    fn link(&mut self, key: usize) {
        let entry = &self.entries[key];
        let tick = (entry.deadline / TICK_NS)
            .max(self.elapsed)
            .min(self.elapsed + RANGE - 1);
        let level = level_for(self.elapsed, tick);
        let slot = slot_for(tick, level);
        let head = self.heads[level][slot];
        if head != NIL {
            self.entries[head].prev = key;
        }
        let entry = &mut self.entries[key];
        entry.next = head;
        entry.prev = NIL;
        entry.position = Some((level, slot));
        self.heads[level][slot] = key;
        self.occupied[level] |= 1 << slot;
    }

    fn unlink(&mut self, key: usize) {
        let entry = &mut self.entries[key];
        let Some((level, slot)) = entry.position.take() else {
            return;
        };
        let (prev, next) = (entry.prev, entry.next);
        entry.prev = NIL;
        entry.next = NIL;
        if prev == NIL {
            self.heads[level][slot] = next;
        } else {
            self.entries[prev].next = next;
        }
        if next != NIL {
            self.entries[next].prev = prev;
        }
        if self.heads[level][slot] == NIL {
            self.occupied[level] &= !(1 << slot);
        }
    }

    fn next_expiration(&self) -> Option<Expiration> {
        (0..LEVELS).find_map(|level| self.next_expiration_in(level))
    }

    fn next_expiration_in(&self, level: usize) -> Option<Expiration> {
        let occupied = self.occupied[level];
        if occupied == 0 {
            return None;
        }
        let slot_range = 1u64 << (SLOT_BITS * level as u32);
        let level_range = slot_range << SLOT_BITS;
        let now_slot = slot_for(self.elapsed, level);
        let distance = occupied.rotate_right(now_slot as u32).trailing_zeros() as usize;
        let slot = (now_slot + distance) % SLOTS;
        let level_start = self.elapsed & !(level_range - 1);
        let mut tick = level_start + slot as u64 * slot_range;
        if tick + slot_range <= self.elapsed {
            // The slot is behind `elapsed` in this rotation: it holds the
            // next rotation's entries (only the top level wraps like this).
            tick += level_range;
        }
        Some(Expiration { level, slot, tick })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    /// Drives the wheel one step at a time through `deadlines` and checks
    /// that each timer fires exactly when the clock passes its deadline.
    fn fires_exactly(deadlines: &[u64]) {
        let mut wheel = Wheel::default();
        let keys: Vec<_> = deadlines
            .iter()
            .map(|&d| wheel.insert(d, waker().1))
            .collect();
        let mut order: Vec<_> = deadlines.to_vec();
        order.sort_unstable();
        order.dedup();
        let mut wakers = Vec::new();
        for &now in &order {
            let next = wheel.next_deadline().expect("pending timers");
            assert!(
                next <= now,
                "next_deadline {next} is after pending deadline {now}"
            );
            wheel.process(now - 1, &mut wakers);
            for (k, &d) in keys.iter().zip(deadlines) {
                assert_eq!(
                    wheel.entries[*k].fired,
                    d < now,
                    "deadline {d} at {}",
                    now - 1
                );
            }
            wheel.process(now, &mut wakers);
            for (k, &d) in keys.iter().zip(deadlines) {
                assert_eq!(wheel.entries[*k].fired, d <= now, "deadline {d} at {now}");
            }
        }
        assert_eq!(wheel.next_deadline(), None);
    }

    #[test]
    fn fires_at_exact_deadlines_within_one_millisecond() {
        fires_exactly(&[1, 500_000, 999_999, 1_000_000, 1_000_001, 1_500_000]);
    }

    #[test]
    fn fires_across_levels() {
        let ms = TICK_NS;
        fires_exactly(&[
            3 * ms,
            63 * ms + 7,
            64 * ms,
            65 * ms + 1,
            4_095 * ms,
            4_096 * ms + 5,
            262_144 * ms + 11,
            16_777_216 * ms + 3,
            (1 << 30) * ms + 1,
        ]);
    }

    #[test]
    fn beyond_the_range_still_fires_on_time() {
        let far = (RANGE + 12_345) * TICK_NS + 17;
        fires_exactly(&[far, far + 1]);
    }

    #[test]
    fn next_deadline_is_exact() {
        let mut wheel = Wheel::default();
        wheel.insert(2 * TICK_NS + 123, waker().1);
        wheel.insert(2 * TICK_NS + 77, waker().1);
        assert_eq!(wheel.next_deadline(), Some(2 * TICK_NS + 77));
        let mut wakers = Vec::new();
        wheel.process(2 * TICK_NS + 100, &mut wakers);
        assert_eq!(wakers.len(), 1);
        assert_eq!(wheel.next_deadline(), Some(2 * TICK_NS + 123));
    }

    #[test]
    fn removed_timers_never_fire() {
        let mut wheel = Wheel::default();
        let (count, w) = waker();
        let a = wheel.insert(5 * TICK_NS, w.clone());
        let b = wheel.insert(5 * TICK_NS, w.clone());
        let c = wheel.insert(700 * TICK_NS, w);
        wheel.remove(a);
        wheel.remove(c);
        let mut wakers = Vec::new();
        wheel.process(10_000 * TICK_NS, &mut wakers);
        wakers.drain(..).for_each(Waker::wake);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(wheel.entries[b].fired);
        assert_eq!(wheel.next_deadline(), None);
    }

    #[test]
    fn reset_moves_a_timer_and_rearms_it() {
        let mut wheel = Wheel::default();
        let (_, w) = waker();
        let key = wheel.insert(10 * TICK_NS, w.clone());
        wheel.reset(key, 3_000 * TICK_NS);
        let mut wakers = Vec::new();
        wheel.process(10 * TICK_NS, &mut wakers);
        assert!(!wheel.poll(key, &w));
        wheel.process(3_000 * TICK_NS, &mut wakers);
        assert!(wheel.poll(key, &w));
        wheel.reset(key, 3_500 * TICK_NS);
        assert!(!wheel.poll(key, &w));
        // Far deadlines report the start of their higher-level slot first.
        let first = wheel.next_deadline().expect("pending");
        assert!(first <= 3_500 * TICK_NS);
        wheel.process(first, &mut wakers);
        assert_eq!(wheel.next_deadline(), Some(3_500 * TICK_NS));
    }

    #[test]
    fn deadlines_in_the_past_fire_on_next_process() {
        let mut wheel = Wheel::default();
        let mut wakers = Vec::new();
        wheel.process(50 * TICK_NS, &mut wakers);
        let key = wheel.insert(TICK_NS, waker().1);
        assert!(wheel.next_deadline().unwrap() <= 50 * TICK_NS);
        wheel.process(50 * TICK_NS, &mut wakers);
        assert!(wheel.entries[key].fired);
    }

    #[test]
    fn many_random_timers_fire_in_deadline_order() {
        // A fixed-seed xorshift: reproducible, no dependency.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let deadlines: Vec<u64> = (0..2_000).map(|_| next() % (5_000 * TICK_NS)).collect();
        let mut wheel = Wheel::default();
        for &d in &deadlines {
            wheel.insert(d, waker().1);
        }
        let mut now = 0;
        let mut wakers = Vec::new();
        let mut first = true;
        while let Some(next) = wheel.next_deadline() {
            let pending = wheel.entries.iter().filter(|(_, e)| !e.fired);
            let earliest = pending.map(|(_, e)| e.deadline).min().expect("pending");
            assert!(
                next <= earliest,
                "next_deadline {next} after a pending {earliest}"
            );
            assert!(first || next > now, "no progress at {now}");
            first = false;
            now = next;
            wheel.process(now, &mut wakers);
            for (_, e) in wheel.entries.iter() {
                assert_eq!(e.fired, e.deadline <= now);
            }
        }
        assert!(wheel.entries.iter().all(|(_, e)| e.fired));
    }
}
