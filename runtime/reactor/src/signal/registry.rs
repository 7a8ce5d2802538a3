//! The process-wide half of signal handling: one handler per signal, one
//! self-pipe, and per signal a count of deliveries and the wakers of its
//! listeners.
//!
//! The handler does only what is safe in a signal handler: an atomic
//! increment of the signal's count and a one-byte `write` to the pipe (a
//! raw syscall; `signal-hook-registry` saves and restores `errno` around
//! it). Every reactor that has a listener watches the pipe's read end; the first to see it readable drains it and wakes the
//! listeners of every signal whose count moved, in whatever runtime they
//! are. A listener compares the count with the deliveries it has already
//! returned, so a burst of signals before its task runs is not lost.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::OnceLock;
use std::task::Waker;

use parking_lot::Mutex;
use slab::Slab;

/// Signal numbers are below this on every Unix Corium runs on (Linux's
/// real-time signals end at 64).
const MAX_SIGNAL: usize = 65;

/// What the process knows about one signal.
pub(crate) struct Slot {
    /// Deliveries since the handler was installed; only the handler adds.
    delivered: AtomicU64,
    /// `delivered` as of the last time the listeners were woken.
    announced: AtomicU64,
    /// `None` until a first listener asks; then the outcome of installing
    /// the handler, kept so that every later listener gets the same answer.
    installed: Mutex<Option<Result<(), io::ErrorKind>>>,
    waiters: Mutex<Slab<Waker>>,
}

pub(crate) struct Registry {
    read: OwnedFd,
    write: OwnedFd,
    slots: Box<[Slot]>,
}

static REGISTRY: OnceLock<io::Result<Registry>> = OnceLock::new();

/// The registry, created with its pipe on first use.
pub(crate) fn registry() -> io::Result<&'static Registry> {
    match REGISTRY.get_or_init(Registry::new) {
        Ok(registry) => Ok(registry),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("cannot create the signal pipe: {e}"),
        )),
    }
}

impl Registry {
    fn new() -> io::Result<Registry> {
        use rustix::pipe::{pipe_with, PipeFlags};
        let (read, write) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
        let slots = (0..MAX_SIGNAL)
            .map(|_| Slot {
                delivered: AtomicU64::new(0),
                announced: AtomicU64::new(0),
                installed: Mutex::new(None),
                waiters: Mutex::new(Slab::new()),
            })
            .collect();
        Ok(Registry { read, write, slots })
    }

    /// The slot of `signal`, installing its handler if no listener has yet.
    pub(crate) fn slot(&'static self, signal: i32) -> io::Result<&'static Slot> {
        let slot = usize::try_from(signal)
            .ok()
            .filter(|&n| n > 0)
            .and_then(|n| self.slots.get(n))
            .ok_or_else(|| invalid(signal, "it is not a signal number"))?;
        if signal_hook_registry::FORBIDDEN.contains(&signal) {
            return Err(invalid(
                signal,
                "it cannot be caught (SIGKILL, SIGSTOP) or means the process is broken \
                 (SIGSEGV, SIGILL, SIGFPE)",
            ));
        }
        let mut installed = slot.installed.lock();
        let outcome = *installed.get_or_insert_with(|| self.install(signal, slot));
        match outcome {
            Ok(()) => Ok(slot),
            Err(kind) => Err(io::Error::new(
                kind,
                format!("cannot install a handler for signal {signal}"),
            )),
        }
    }

    fn install(&'static self, signal: i32, slot: &'static Slot) -> Result<(), io::ErrorKind> {
        let write = self.write.as_fd();
        let handler = move || {
            slot.delivered.fetch_add(1, SeqCst);
            // A full pipe already holds a wakeup; nothing else can go wrong
            // that a handler could report.
            let _ = rustix::io::write(write, &[1]);
        };
        // SAFETY: `register` requires the action to be async-signal-safe and
        // not to panic: it does an atomic add on a `'static` slot and a raw
        // `write` syscall on a `'static` fd (rustix issues the syscall
        // directly), neither of which allocates, locks or panics.
        match unsafe { signal_hook_registry::register(signal, handler) } {
            Ok(_) => Ok(()),
            Err(e) => Err(e.kind()),
        }
    }

    /// The pipe's read end, for the reactors to watch.
    pub(crate) fn read_end(&'static self) -> BorrowedFd<'static> {
        self.read.as_fd()
    }

    /// After a reactor drained its copy of the pipe: wakes the listeners of
    /// every signal delivered since the last announcement.
    pub(crate) fn announce(&self) {
        for slot in self.slots.iter() {
            let delivered = slot.delivered.load(SeqCst);
            if slot.announced.swap(delivered, SeqCst) != delivered {
                slot.wake_all();
            }
        }
    }

    /// Wakes every listener of every signal (their reactor is going away,
    /// and they must see it).
    pub(crate) fn wake_everyone(&self) {
        self.slots.iter().for_each(Slot::wake_all);
    }
}

impl Slot {
    /// How many times the signal has been delivered.
    pub(crate) fn delivered(&self) -> u64 {
        self.delivered.load(SeqCst)
    }

    /// Stores `waker` as listener `key`'s (a new key when `None`).
    pub(crate) fn set_waker(&self, key: &mut Option<usize>, waker: &Waker) {
        let mut waiters = self.waiters.lock();
        match key.and_then(|k| waiters.get_mut(k)) {
            Some(slot) if slot.will_wake(waker) => {}
            Some(slot) => slot.clone_from(waker),
            None => *key = Some(waiters.insert(waker.clone())),
        }
    }

    pub(crate) fn remove_waker(&self, key: usize) {
        self.waiters.lock().try_remove(key);
    }

    fn wake_all(&self) {
        let wakers: Vec<Waker> = self.waiters.lock().iter().map(|(_, w)| w.clone()).collect();
        wakers.into_iter().for_each(Waker::wake);
    }
}

fn invalid(signal: i32, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("cannot listen for signal {signal}: {why}"),
    )
}
