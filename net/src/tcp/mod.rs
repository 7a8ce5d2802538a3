//! TCP: [`TcpListener`], [`TcpStream`] with its halves, and [`TcpSocket`].

mod listener;
mod socket;
mod split;
mod split_owned;
pub(crate) mod stream;

pub use listener::{Incoming, TcpListener};
pub use socket::TcpSocket;
pub use split::{ReadHalf, WriteHalf};
pub use split_owned::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use stream::TcpStream;
