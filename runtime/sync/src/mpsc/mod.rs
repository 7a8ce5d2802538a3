//! Multi-producer, single-consumer channels: the work queue of a service.
//!
//! [`channel`] is bounded: `send().await` waits for room, which pushes back
//! on producers that outrun the consumer. [`unbounded_channel`] never
//! waits, and grows without limit. Senders are served in the order they
//! asked (a queued `send` is not overtaken by a later `try_send`).
//!
//! ```
//! use corium_sync::mpsc;
//!
//! # futures_util::FutureExt::now_or_never(async {
//! let (tx, mut rx) = mpsc::channel(16);
//! tx.send("hello").await.unwrap();
//! drop(tx);
//! assert_eq!(rx.recv().await, Some("hello"));
//! assert_eq!(rx.recv().await, None); // every sender is gone
//! # }).unwrap();
//! ```

mod bounded;
mod chan;
pub mod error;
mod receiver;
mod unbounded;

pub use bounded::{channel, OwnedPermit, Permit, Receiver, Sender, WeakSender};
pub use unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender, WeakUnboundedSender};
