//! `Builder`: configures and builds a `Runtime`, and reads the flavor
//! from the environment (`CORIUM_FLAVOR`, `CORIUM_WORKER_THREADS`,
//! `CORIUM_REACTOR_TOPOLOGY`).

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use corium_reactor::{Backend, Reactor};

use super::{Handle, Runtime};
use crate::blocking;
use crate::scheduler::{self, current_thread, multi_thread, Callback};

/// The variable that picks the flavor of `Runtime::new()`,
/// `Builder::from_env()` and `#[corium::main]` without arguments.
pub const FLAVOR_ENV: &str = "CORIUM_FLAVOR";
/// The variable that sets the worker count of a multi-thread runtime whose
/// code does not set it.
pub const WORKER_THREADS_ENV: &str = "CORIUM_WORKER_THREADS";
/// The variable that picks the reactor topology of a multi-thread runtime
/// whose code does not pick one (see [`Builder::reactor_topology`]).
pub const TOPOLOGY_ENV: &str = "CORIUM_REACTOR_TOPOLOGY";

/// Blocking-pool threads at most, by default (tokio's figure).
const MAX_BLOCKING_THREADS: usize = 512;
/// How long an idle blocking-pool thread lives, by default.
const THREAD_KEEP_ALIVE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    CurrentThread,
    MultiThread,
}

/// What a runtime does when a spawned task panics (the panic always
/// reaches the task's `JoinHandle` as `JoinError::is_panic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnhandledPanic {
    /// Keep running the other tasks (the default, as tokio).
    #[default]
    Ignore,
    /// Stop the runtime: `block_on` panics saying why, and the runtime's
    /// tasks are cancelled when it is dropped. For services where a
    /// panicking task means a broken invariant.
    ShutdownRuntime,
}

/// Builds a runtime with custom settings.
///
/// ```
/// let rt = corium_executor::runtime::Builder::new_current_thread()
///     .enable_all()
///     .thread_name("my-service")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
pub struct Builder {
    kind: Kind,
    /// Set by the code; wins over `CORIUM_WORKER_THREADS`.
    worker_threads: Option<usize>,
    /// `None`: "corium-worker" for workers, "corium-blocking" for the pool.
    thread_name: Option<Arc<dyn Fn() -> String + Send + Sync>>,
    thread_stack_size: Option<usize>,
    on_thread_start: Option<Callback>,
    on_thread_stop: Option<Callback>,
    on_thread_park: Option<Callback>,
    on_thread_unpark: Option<Callback>,
    unhandled_panic: UnhandledPanic,
    max_blocking_threads: usize,
    keep_alive: Duration,
    backend: Backend,
    start_paused: bool,
    /// Set by the code; wins over `CORIUM_REACTOR_TOPOLOGY`.
    topology: Option<ReactorTopology>,
}

/// How a multi-thread runtime's workers wait for I/O (see
/// [`Builder::reactor_topology`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReactorTopology {
    /// One I/O reactor for the whole runtime, turned by whichever worker
    /// goes to sleep first; the others sleep apart. Every ready socket
    /// reaches whichever worker is free, so no connection waits for one
    /// particular thread (tokio's layout). Timers stay per worker.
    Shared,
    /// One reactor per worker: a worker sleeps in its own, and accepted
    /// connections are spread over them in turn, so a connection's
    /// events and its task stay on one worker (the thread-per-core layout
    /// of Netty, memcached and nginx).
    PerWorker,
}

impl fmt::Display for ReactorTopology {
    /// `shared reactor` or `reactor per worker`, as the examples print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReactorTopology::Shared => "shared reactor",
            ReactorTopology::PerWorker => "reactor per worker",
        })
    }
}

impl Builder {
    /// A runtime whose tasks all run on the thread that calls `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder::new(Kind::CurrentThread)
    }

    /// A runtime whose tasks run on a pool of worker threads (one per core
    /// unless [`worker_threads`](Self::worker_threads) or
    /// `CORIUM_WORKER_THREADS` says otherwise), with work stealing.
    ///
    /// ```
    /// let rt = corium_executor::runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.handle().metrics().num_workers(), 2);
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    /// ```
    pub fn new_multi_thread() -> Builder {
        Builder::new(Kind::MultiThread)
    }

    /// The builder the environment asks for: `CORIUM_FLAVOR` picks the
    /// flavor (`current_thread` or `current`, `multi_thread` or `multi`;
    /// unset: multi-thread, as tokio's default) and `CORIUM_WORKER_THREADS`
    /// the worker count. This is what `Runtime::new()` uses, so the same
    /// program runs on either flavor without a change.
    ///
    /// # Errors
    /// An invalid value, with a message naming the variable and what it
    /// may be.
    pub fn from_env() -> io::Result<Builder> {
        let kind = match std::env::var(FLAVOR_ENV) {
            Err(std::env::VarError::NotPresent) => Kind::MultiThread,
            Ok(value) => match value.trim() {
                "current_thread" | "current" => Kind::CurrentThread,
                "multi_thread" | "multi" => Kind::MultiThread,
                _ => return Err(invalid_env(FLAVOR_ENV, &value, FLAVOR_VALUES)),
            },
            Err(std::env::VarError::NotUnicode(value)) => {
                return Err(invalid_env(
                    FLAVOR_ENV,
                    &value.to_string_lossy(),
                    FLAVOR_VALUES,
                ))
            }
        };
        // Read now, so a bad value is reported whatever the flavor.
        env_worker_threads()?;
        Ok(Builder::new(kind))
    }

    fn new(kind: Kind) -> Builder {
        Builder {
            kind,
            worker_threads: None,
            thread_name: None,
            thread_stack_size: None,
            on_thread_start: None,
            on_thread_stop: None,
            on_thread_park: None,
            on_thread_unpark: None,
            unhandled_panic: UnhandledPanic::Ignore,
            max_blocking_threads: MAX_BLOCKING_THREADS,
            keep_alive: THREAD_KEEP_ALIVE,
            backend: Backend::Auto,
            start_paused: false,
            topology: None,
        }
    }

    /// How many worker threads a multi-thread runtime runs (default: one
    /// per core, or `CORIUM_WORKER_THREADS`). Ignored by the current-thread
    /// flavor, which runs on the `block_on` thread.
    ///
    /// # Panics
    /// When `n` is 0.
    #[track_caller]
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "worker_threads must be at least 1");
        self.worker_threads = Some(n);
        self
    }

    /// Runs `f` on every thread the runtime starts (workers and blocking
    /// pool), first thing.
    pub fn on_thread_start(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on every thread the runtime starts, last thing.
    pub fn on_thread_stop(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// Runs `f` when a thread that runs tasks goes to sleep for want of work.
    pub fn on_thread_park(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.on_thread_park = Some(Arc::new(f));
        self
    }

    /// Runs `f` when a thread that runs tasks wakes from such a sleep.
    pub fn on_thread_unpark(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Self {
        self.on_thread_unpark = Some(Arc::new(f));
        self
    }

    /// What to do when a spawned task panics (default: ignore; the panic
    /// still reaches its `JoinHandle`). Both flavors support it.
    pub fn unhandled_panic(&mut self, behavior: UnhandledPanic) -> &mut Self {
        self.unhandled_panic = behavior;
        self
    }

    /// I/O and timers are always on in Corium; this exists so tokio code
    /// compiles unchanged.
    pub fn enable_all(&mut self) -> &mut Self {
        self
    }

    /// Always on; see [`enable_all`](Self::enable_all).
    pub fn enable_io(&mut self) -> &mut Self {
        self
    }

    /// Always on; see [`enable_all`](Self::enable_all).
    pub fn enable_time(&mut self) -> &mut Self {
        self
    }

    /// The name of the threads the runtime starts.
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.thread_name = Some(Arc::new(move || name.clone()));
        self
    }

    /// A function naming each thread the runtime starts.
    pub fn thread_name_fn(&mut self, f: impl Fn() -> String + Send + Sync + 'static) -> &mut Self {
        self.thread_name = Some(Arc::new(f));
        self
    }

    /// The stack size of the threads the runtime starts.
    pub fn thread_stack_size(&mut self, size: usize) -> &mut Self {
        self.thread_stack_size = Some(size);
        self
    }

    /// The most threads the blocking pool runs at once (default 512); jobs
    /// beyond wait in a queue.
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "max_blocking_threads must be at least 1");
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking-pool thread waits for work before it exits
    /// (default 10 s).
    pub fn thread_keep_alive(&mut self, d: Duration) -> &mut Self {
        self.keep_alive = d;
        self
    }

    /// How a multi-thread runtime's workers wait for I/O: one reactor they
    /// share, or one each. The default is the one that measured faster on
    /// a machine whose cores are shared with other work (DESIGN.md has the
    /// figures), unless `CORIUM_REACTOR_TOPOLOGY` (`shared` or
    /// `per_worker`) says otherwise. Ignored by the current-thread flavor.
    pub fn reactor_topology(&mut self, topology: ReactorTopology) -> &mut Self {
        self.topology = Some(topology);
        self
    }

    /// Starts the runtime with its clock paused (see `time::pause`).
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.start_paused = paused;
        self
    }

    /// The reactor backend (the default is the fastest for the platform;
    /// tests use this to run the portable `polling` path on Linux).
    pub fn reactor_backend(&mut self, backend: Backend) -> &mut Self {
        self.backend = backend;
        self
    }

    /// Builds the runtime.
    ///
    /// # Errors
    /// When the OS refuses a poller or a thread, or `CORIUM_WORKER_THREADS`
    /// holds an invalid value (for a multi-thread runtime whose code did
    /// not set the count), or a paused clock is asked of the multi-thread
    /// flavor.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let blocking_name = self
            .thread_name
            .clone()
            .unwrap_or_else(|| Arc::new(|| "corium-blocking".to_string()));
        let blocking = blocking::Spawner::new(blocking::Config {
            max_threads: self.max_blocking_threads,
            keep_alive: self.keep_alive,
            thread_name: blocking_name,
            stack_size: self.thread_stack_size,
            on_thread_start: self.on_thread_start.clone(),
            on_thread_stop: self.on_thread_stop.clone(),
        });
        let config = scheduler::Config {
            worker_name: self
                .thread_name
                .clone()
                .unwrap_or_else(|| Arc::new(|| "corium-worker".to_string())),
            stack_size: self.thread_stack_size,
            on_thread_start: self.on_thread_start.clone(),
            on_thread_stop: self.on_thread_stop.clone(),
            on_thread_park: self.on_thread_park.clone(),
            on_thread_unpark: self.on_thread_unpark.clone(),
            unhandled_panic: self.unhandled_panic,
        };
        let inner = match self.kind {
            Kind::CurrentThread => {
                let reactor = Reactor::with_backend(self.backend)?;
                scheduler::Handle::CurrentThread(current_thread::Shared::new(
                    reactor,
                    blocking.clone(),
                    config,
                ))
            }
            Kind::MultiThread => {
                if self.start_paused {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "start_paused needs the current-thread runtime (a paused clock is \
                         advanced when the one thread running tasks is idle); build it with \
                         `Builder::new_current_thread`",
                    ));
                }
                let workers = match self.worker_threads {
                    Some(n) => n,
                    None => env_worker_threads()?.unwrap_or_else(default_worker_threads),
                };
                let topology = match self.topology {
                    Some(topology) => topology,
                    None => env_topology()?.unwrap_or(DEFAULT_TOPOLOGY),
                };
                let reactors = (0..workers)
                    .map(|_| Reactor::with_backend(self.backend))
                    .collect::<io::Result<Vec<_>>>()?;
                let shared_io = match topology {
                    ReactorTopology::Shared => Some(Reactor::with_backend(self.backend)?),
                    ReactorTopology::PerWorker => None,
                };
                scheduler::Handle::MultiThread(multi_thread::Shared::new(
                    reactors,
                    shared_io,
                    blocking.clone(),
                    config,
                ))
            }
        };
        let spawner = blocking.clone();
        inner
            .reactor()
            .set_blocking_spawner(move |job| spawner.spawn_job(job));
        let handle = Handle { inner };
        blocking.set_handle(handle.clone());
        if self.start_paused {
            let _enter = handle.enter();
            corium_reactor::time::pause();
        }
        Ok(Runtime::from_handle(handle))
    }
}

const FLAVOR_VALUES: &str = "`current_thread` (or `current`) or `multi_thread` (or `multi`)";

fn invalid_env(name: &str, value: &str, allowed: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{name}={value:?} is not valid: it must be {allowed}, or unset"),
    )
}

/// `CORIUM_WORKER_THREADS`, if set.
fn env_worker_threads() -> io::Result<Option<usize>> {
    const ALLOWED: &str = "a whole number of worker threads, at least 1";
    match std::env::var(WORKER_THREADS_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Ok(value) => match value.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(invalid_env(WORKER_THREADS_ENV, &value, ALLOWED)),
        },
        Err(std::env::VarError::NotUnicode(value)) => Err(invalid_env(
            WORKER_THREADS_ENV,
            &value.to_string_lossy(),
            ALLOWED,
        )),
    }
}

/// The topology with nothing set: see DESIGN.md for the measurement.
const DEFAULT_TOPOLOGY: ReactorTopology = ReactorTopology::Shared;

/// `CORIUM_REACTOR_TOPOLOGY`, if set.
fn env_topology() -> io::Result<Option<ReactorTopology>> {
    const ALLOWED: &str = "`shared` or `per_worker`";
    match std::env::var(TOPOLOGY_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Ok(value) => match value.trim() {
            "shared" => Ok(Some(ReactorTopology::Shared)),
            "per_worker" => Ok(Some(ReactorTopology::PerWorker)),
            _ => Err(invalid_env(TOPOLOGY_ENV, &value, ALLOWED)),
        },
        Err(std::env::VarError::NotUnicode(value)) => {
            Err(invalid_env(TOPOLOGY_ENV, &value.to_string_lossy(), ALLOWED))
        }
    }
}

fn default_worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("kind", &self.kind)
            .field("worker_threads", &self.worker_threads)
            .field("unhandled_panic", &self.unhandled_panic)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("thread_keep_alive", &self.keep_alive)
            .field("backend", &self.backend)
            .field("start_paused", &self.start_paused)
            .field("reactor_topology", &self.topology)
            .finish_non_exhaustive()
    }
}
