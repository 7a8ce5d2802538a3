//! Readiness-based I/O: registrations, readiness and interest.

mod ready;
mod registration;
pub(crate) mod scheduled;

pub use ready::{Interest, Ready};
pub use registration::Registration;
pub use scheduled::ReadyEvent;
