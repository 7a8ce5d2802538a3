//! The keyspace: byte-string keys and values, with optional deadlines.
//!
//! Expiry works as in Redis, on two fronts:
//!
//! 1. Lazily: every access to a key whose deadline has passed removes it
//!    first, so a client never sees an expired key.
//! 2. Actively: [`Db::remove_expired`], called by the server's sweep task
//!    every 100 ms, removes keys nobody touches. It walks `deadlines`, an
//!    index ordered by deadline, so a sweep costs the keys that expired,
//!    not the size of the keyspace.
//!
//! Invariant: `deadlines` holds `(deadline, key)` exactly for the entries
//! whose `expires_at` is `Some(deadline)`. Every method that changes an
//! entry's deadline or removes an entry keeps it so.
//!
//! Keys are `Arc<[u8]>` so that the index shares the map's allocation.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use corium::time::Instant;

use crate::resp::{self, parse_i64};

/// The keyspace shared by every connection. The lock is taken per command
/// and never held across an `.await`, so it works on a multi-thread
/// runtime as it does on a current-thread one.
#[derive(Debug, Clone, Default)]
pub struct SharedDb(Arc<Mutex<Db>>);

impl SharedDb {
    /// An empty keyspace.
    pub fn new() -> SharedDb {
        SharedDb::default()
    }

    /// Locks the keyspace. A panic while it was held (a bug) poisons the
    /// lock; it is taken over rather than turning every later command into
    /// a panic too.
    pub fn lock(&self) -> MutexGuard<'_, Db> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A stored value and its deadline.
#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    expires_at: Option<Instant>,
}

impl Entry {
    fn is_expired(&self, now: &mut Now) -> bool {
        self.expires_at
            .is_some_and(|deadline| deadline <= now.get())
    }
}

/// The current time, read from the clock at most once and only if an
/// entry with a deadline asks (most keys have none).
struct Now(Option<Instant>);

impl Now {
    fn get(&mut self) -> Instant {
        *self.0.get_or_insert_with(Instant::now)
    }
}

/// What `TTL` reports for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// No such key.
    Missing,
    /// The key never expires.
    Persistent,
    /// The key expires after this long.
    Remaining(Duration),
}

/// Why `INCR` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncrError {
    /// The value is not a decimal `i64`.
    NotAnInteger,
    /// The value is `i64::MAX`.
    Overflow,
}

/// The keyspace itself; reach it through [`SharedDb::lock`].
#[derive(Debug, Default)]
pub struct Db {
    entries: HashMap<Arc<[u8]>, Entry>,
    /// Keys with a deadline, soonest first (see the module invariant).
    deadlines: BTreeSet<(Instant, Arc<[u8]>)>,
}

impl Db {
    /// The number of keys, counting expired ones not swept yet (as Redis's
    /// `DBSIZE` does).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Reads the value of `key` through `read`, if the key exists and has
    /// not expired. (A closure rather than a returned reference lets the
    /// expiry check and the read share one hash lookup.)
    pub fn get<R>(&mut self, key: &[u8], read: impl FnOnce(&[u8]) -> R) -> Option<R> {
        self.with_live(key, &mut Now(None), |entry| read(&entry.value))
    }

    /// Whether `key` exists and has not expired.
    pub fn contains(&mut self, key: &[u8]) -> bool {
        self.with_live(key, &mut Now(None), |_| ()).is_some()
    }

    /// Sets `key` to `value` with the given deadline, dropping any deadline
    /// it had. Overwriting a key reuses its allocations.
    pub fn set(&mut self, key: &[u8], value: &[u8], expires_at: Option<Instant>) {
        if let Some(entry) = self.entries.get_mut(key) {
            entry.value.clear();
            entry.value.extend_from_slice(value);
            let previous = std::mem::replace(&mut entry.expires_at, expires_at);
            if previous != expires_at {
                self.reindex(key, previous, expires_at);
            }
            return;
        }
        let key: Arc<[u8]> = Arc::from(key);
        if let Some(deadline) = expires_at {
            self.deadlines.insert((deadline, Arc::clone(&key)));
        }
        let value = value.to_vec();
        self.entries.insert(key, Entry { value, expires_at });
    }

    /// Removes `key`; whether it existed (and had not expired).
    pub fn remove(&mut self, key: &[u8]) -> bool {
        let existed = self.contains(key);
        self.remove_entry(key);
        existed
    }

    /// Adds one to the integer in `key` (a missing key counts as 0),
    /// keeping its deadline; the new value.
    pub fn incr(&mut self, key: &[u8]) -> Result<i64, IncrError> {
        let incremented = self.with_live(key, &mut Now(None), |entry| {
            let current = parse_i64(&entry.value).ok_or(IncrError::NotAnInteger)?;
            let next = current.checked_add(1).ok_or(IncrError::Overflow)?;
            entry.value.clear();
            resp::decimal(&mut entry.value, next);
            Ok(next)
        });
        incremented.unwrap_or_else(|| {
            self.set(key, b"1", None);
            Ok(1)
        })
    }

    /// Gives `key` a new deadline; false if there is no such key. A
    /// deadline already past removes the key, as `EXPIRE key 0` does.
    pub fn expire(&mut self, key: &[u8], deadline: Instant) -> bool {
        let mut now = Now(None);
        if deadline <= now.get() {
            return self.remove(key);
        }
        let previous = self.with_live(key, &mut now, |entry| entry.expires_at.replace(deadline));
        match previous {
            None => false,
            Some(previous) => {
                self.reindex(key, previous, Some(deadline));
                true
            }
        }
    }

    /// How long `key` has to live.
    pub fn ttl(&mut self, key: &[u8]) -> Ttl {
        let mut now = Now(None);
        match self.with_live(key, &mut now, |entry| entry.expires_at) {
            None => Ttl::Missing,
            Some(None) => Ttl::Persistent,
            Some(Some(deadline)) => Ttl::Remaining(deadline.duration_since(now.get())),
        }
    }

    /// Removes up to `limit` keys whose deadline is at or before `now`,
    /// soonest first; how many it removed.
    pub fn remove_expired(&mut self, now: Instant, limit: usize) -> usize {
        let mut removed = 0;
        while removed < limit {
            match self.deadlines.first() {
                Some((deadline, _)) if *deadline <= now => {}
                _ => break,
            }
            if let Some((_, key)) = self.deadlines.pop_first() {
                self.entries.remove(&key);
                removed += 1;
            }
        }
        removed
    }

    /// Runs `f` on the entry of `key`, after removing the key if it has
    /// expired (lazy expiry); `None` if there is no live entry.
    fn with_live<R>(
        &mut self,
        key: &[u8],
        now: &mut Now,
        f: impl FnOnce(&mut Entry) -> R,
    ) -> Option<R> {
        let entry = self.entries.get_mut(key)?;
        if entry.is_expired(now) {
            self.remove_entry(key);
            return None;
        }
        Some(f(entry))
    }

    /// Moves `key` in the deadline index from `previous` to `next`.
    fn reindex(&mut self, key: &[u8], previous: Option<Instant>, next: Option<Instant>) {
        let Some((key, _)) = self.entries.get_key_value(key) else {
            return;
        };
        if let Some(deadline) = previous {
            self.deadlines.remove(&(deadline, Arc::clone(key)));
        }
        if let Some(deadline) = next {
            self.deadlines.insert((deadline, Arc::clone(key)));
        }
    }

    /// Removes `key` and its index entry, expired or not.
    fn remove_entry(&mut self, key: &[u8]) {
        if let Some((key, entry)) = self.entries.remove_entry(key) {
            if let Some(deadline) = entry.expires_at {
                self.deadlines.remove(&(deadline, key));
            }
        }
    }
}
