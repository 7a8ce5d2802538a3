//! `Builder`: configures and builds a `Runtime`.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use corium_reactor::{Backend, Reactor};

use super::{Handle, Runtime};
use crate::blocking;
use crate::scheduler::{self, current_thread};

/// Blocking-pool threads at most, by default (tokio's figure).
const MAX_BLOCKING_THREADS: usize = 512;
/// How long an idle blocking-pool thread lives, by default.
const THREAD_KEEP_ALIVE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    CurrentThread,
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
    thread_name: Arc<dyn Fn() -> String + Send + Sync>,
    thread_stack_size: Option<usize>,
    max_blocking_threads: usize,
    keep_alive: Duration,
    backend: Backend,
    start_paused: bool,
}

impl Builder {
    /// A runtime whose tasks all run on the thread that calls `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder {
            kind: Kind::CurrentThread,
            thread_name: Arc::new(|| "corium-blocking".to_string()),
            thread_stack_size: None,
            max_blocking_threads: MAX_BLOCKING_THREADS,
            keep_alive: THREAD_KEEP_ALIVE,
            backend: Backend::Auto,
            start_paused: false,
        }
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
        self.thread_name = Arc::new(move || name.clone());
        self
    }

    /// A function naming each thread the runtime starts.
    pub fn thread_name_fn(&mut self, f: impl Fn() -> String + Send + Sync + 'static) -> &mut Self {
        self.thread_name = Arc::new(f);
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
    pub fn build(&mut self) -> io::Result<Runtime> {
        let reactor = Reactor::with_backend(self.backend)?;
        let blocking = blocking::Spawner::new(blocking::Config {
            max_threads: self.max_blocking_threads,
            keep_alive: self.keep_alive,
            thread_name: self.thread_name.clone(),
            stack_size: self.thread_stack_size,
        });
        let spawner = blocking.clone();
        reactor
            .handle()
            .set_blocking_spawner(move |job| spawner.spawn_job(job));
        let inner = match self.kind {
            Kind::CurrentThread => scheduler::Handle::CurrentThread(current_thread::Shared::new(
                reactor,
                blocking.clone(),
            )),
        };
        let handle = Handle { inner };
        blocking.set_handle(handle.clone());
        if self.start_paused {
            let _enter = handle.enter();
            corium_reactor::time::pause();
        }
        Ok(Runtime::from_handle(handle))
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("kind", &self.kind)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("thread_keep_alive", &self.keep_alive)
            .field("backend", &self.backend)
            .field("start_paused", &self.start_paused)
            .finish_non_exhaustive()
    }
}
