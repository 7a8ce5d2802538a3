//! Corium's reactor: the part of the runtime that turns OS readiness and
//! expired deadlines into `Waker::wake` calls.
//!
//! It is the Reactor pattern with wakers as the event handlers: a
//! [`Registration`] is a handle, the [`Reactor`] waits on the event
//! demultiplexer (`polling`'s epoll fd, driven directly on Linux; see
//! `sys`) and dispatches each event to the waker of the task waiting for
//! it. It also owns the timer wheel ([`time`]), the cooperative budget
//! ([`coop`]) and the thread-local current handle. It knows nothing about
//! tasks: the executor turns it and the net crate registers sockets with it.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    clippy::undocumented_unsafe_blocks
)]

mod context;
pub mod coop;
pub mod io;
mod reactor;
pub mod signal;
mod sys;
pub mod time;

pub use context::{
    enter_driving, exit_driving, is_driving_thread, DrivingGuard, EnterGuard, TryCurrentError,
};
pub use io::{Interest, Ready, ReadyEvent, Registration};
pub use reactor::{BlockingJob, Handle, PollBuffer, Reactor};
pub use sys::Backend;
