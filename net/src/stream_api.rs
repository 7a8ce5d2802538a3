//! The methods every stream and stream half shares, written once for TCP
//! and Unix streams.
//!
//! `read_exact` and `write_all` loop over a [`SocketIo`]. The
//! [`stream_io!`] macro gives a stream type its reading, writing and
//! readiness methods and `futures-io` impls; [`owned_halves!`] defines the
//! owned halves of a stream. The [`read_half!`] and [`write_half!`] macros
//! give a half type (borrowed or owned, TCP or Unix) its reading or writing
//! methods and `futures-io` impls. They expect the half to have a private
//! `fn stream(&self) -> &Stream`, where `Stream` has `socket_io()`,
//! `readable()`, `writable()`, `try_read()`, `try_write()`, `local_addr()`,
//! `peer_addr()` and `shutdown(Shutdown)`; the second macro argument is the
//! address type those return.

use std::future::poll_fn;
use std::io;
use std::os::fd::AsFd;

use crate::socket_io::SocketIo;

/// Reads exactly `buf.len()` bytes from `io`.
pub(crate) async fn read_exact<T: AsFd>(io: &SocketIo<T>, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match poll_fn(|cx| io.poll_recv(cx, buf)).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => buf = &mut buf[n..],
        }
    }
    Ok(())
}

/// Writes all of `buf` to `io`.
pub(crate) async fn write_all<T: AsFd>(io: &SocketIo<T>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match poll_fn(|cx| io.poll_send(cx, buf)).await? {
            0 => return Err(io::ErrorKind::WriteZero.into()),
            n => buf = &buf[n..],
        }
    }
    Ok(())
}

/// The reading methods of a half, written once for borrowed and owned,
/// TCP and Unix; `$addr` is the stream's address type.
macro_rules! read_half {
    ($half:ty, $addr:ty) => {
        impl $half {
            /// Reads into `buf`; `Ok(0)` at end-of-stream.
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let io = self.stream().socket_io();
                std::future::poll_fn(|cx| io.poll_recv(cx, buf)).await
            }

            /// Reads exactly `buf.len()` bytes.
            ///
            /// # Cancel safety
            /// Not cancel safe: bytes read before the drop are lost.
            pub async fn read_exact(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
                crate::stream_api::read_exact(self.stream().socket_io(), buf).await
            }

            /// Reads without consuming.
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn peek(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let io = self.stream().socket_io();
                std::future::poll_fn(|cx| io.poll_peek(cx, buf)).await
            }

            /// Waits until a read may succeed.
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn readable(&self) -> std::io::Result<()> {
                self.stream().readable().await
            }

            /// Reads now if data is ready, else `WouldBlock`.
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.stream().try_read(buf)
            }

            /// The peer's address.
            pub fn peer_addr(&self) -> std::io::Result<$addr> {
                self.stream().peer_addr()
            }

            /// The local address.
            pub fn local_addr(&self) -> std::io::Result<$addr> {
                self.stream().local_addr()
            }
        }

        impl futures_io::AsyncRead for $half {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.stream().socket_io().poll_recv(cx, buf)
            }
        }
    };
}

/// The writing methods of a half, written once for borrowed and owned,
/// TCP and Unix.
macro_rules! write_half {
    ($half:ty) => {
        impl $half {
            /// Writes some of `buf`.
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                let io = self.stream().socket_io();
                std::future::poll_fn(|cx| io.poll_send(cx, buf)).await
            }

            /// Writes all of `buf`.
            ///
            /// # Cancel safety
            /// Not cancel safe: part of `buf` may have been written.
            pub async fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
                crate::stream_api::write_all(self.stream().socket_io(), buf).await
            }

            /// Writes from several buffers in one `sendmsg`.
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn write_vectored(
                &mut self,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::io::Result<usize> {
                let io = self.stream().socket_io();
                std::future::poll_fn(|cx| io.poll_send_vectored(cx, bufs)).await
            }

            /// Waits until a write may succeed.
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn writable(&self) -> std::io::Result<()> {
                self.stream().writable().await
            }

            /// Writes now if there is room, else `WouldBlock`.
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.stream().try_write(buf)
            }
        }

        impl futures_io::AsyncWrite for $half {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.stream().socket_io().poll_send(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.stream().socket_io().poll_send_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            /// Shuts down the write side: the peer reads end-of-stream.
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.stream().shutdown(std::net::Shutdown::Write))
            }
        }
    };
}

/// The reading and writing methods of a whole stream, and its `futures-io`
/// impls, written once for `TcpStream` and `UnixStream`. They expect the
/// stream to have a `fn socket_io(&self) -> &SocketIo<_>` and an inherent
/// `shutdown(Shutdown)`.
macro_rules! stream_io {
    ($stream:ty) => {
        impl $stream {
            /// Reads into `buf`; `Ok(0)` means the peer closed its write side (or
            /// `buf` is empty).
            ///
            /// # Cancel safety
            /// Cancel safe: if dropped before completing, no data was read.
            pub async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let io = self.socket_io();
                std::future::poll_fn(|cx| io.poll_recv(cx, buf)).await
            }

            /// Reads exactly `buf.len()` bytes; `UnexpectedEof` if the peer closes
            /// first.
            ///
            /// # Cancel safety
            /// Not cancel safe: bytes read before the drop are lost.
            pub async fn read_exact(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
                crate::stream_api::read_exact(self.socket_io(), buf).await
            }

            /// Reads without removing the data from the socket's queue.
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn peek(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let io = self.socket_io();
                std::future::poll_fn(|cx| io.poll_peek(cx, buf)).await
            }

            /// Writes some of `buf`; returns how much.
            ///
            /// # Cancel safety
            /// Cancel safe: if dropped before completing, nothing was written.
            pub async fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                let io = self.socket_io();
                std::future::poll_fn(|cx| io.poll_send(cx, buf)).await
            }

            /// Writes all of `buf`.
            ///
            /// # Cancel safety
            /// Not cancel safe: part of `buf` may have been written.
            pub async fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
                crate::stream_api::write_all(self.socket_io(), buf).await
            }

            /// Writes from several buffers in one `sendmsg`; returns how much.
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn write_vectored(
                &mut self,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::io::Result<usize> {
                let io = self.socket_io();
                std::future::poll_fn(|cx| io.poll_send_vectored(cx, bufs)).await
            }

            /// Waits until the stream is ready in `interest`'s direction.
            ///
            /// One task at a time should wait per direction (the latest waiter's
            /// waker is the one woken).
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn ready(
                &self,
                interest: corium_reactor::Interest,
            ) -> std::io::Result<corium_reactor::Ready> {
                self.socket_io().ready(interest).await
            }

            /// Waits until a read may succeed (see [`ready`](Self::ready)).
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn readable(&self) -> std::io::Result<()> {
                self.ready(corium_reactor::Interest::Readable)
                    .await
                    .map(drop)
            }

            /// Waits until a write may succeed (see [`ready`](Self::ready)).
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn writable(&self) -> std::io::Result<()> {
                self.ready(corium_reactor::Interest::Writable)
                    .await
                    .map(drop)
            }

            /// Reads now if data is ready, else `WouldBlock` (and the readiness is
            /// cleared, so [`readable`](Self::readable) waits for new data).
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.socket_io()
                    .try_io(corium_reactor::Interest::Readable, |s| {
                        rustix::net::recv(s, buf, rustix::net::RecvFlags::empty())
                            .map(|(n, _)| n)
                            .map_err(std::io::Error::from)
                    })
            }

            /// Writes now if the socket has room, else `WouldBlock`.
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.socket_io()
                    .try_io(corium_reactor::Interest::Writable, |s| {
                        crate::socket_io::send(s, buf)
                    })
            }

            /// Runs any non-blocking operation `op` on the socket under the
            /// readiness protocol (`WouldBlock` clears readiness).
            pub fn try_io<R>(
                &self,
                interest: corium_reactor::Interest,
                op: impl FnOnce() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.socket_io().try_io(interest, |_| op())
            }
        }

        impl futures_io::AsyncRead for $stream {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.socket_io().poll_recv(cx, buf)
            }
        }

        impl futures_io::AsyncWrite for $stream {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.socket_io().poll_send(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.socket_io().poll_send_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            /// Shuts down the write side: the peer reads end-of-stream.
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.shutdown(std::net::Shutdown::Write))
            }
        }
    };
}

/// The owned halves of a stream (`OwnedReadHalf`, `OwnedWriteHalf`,
/// `ReuniteError` and the `split_owned` behind `into_split`), written once
/// for TCP and Unix; `$addr` is the stream's address type and `$kind` names
/// the streams in `ReuniteError`'s message.
macro_rules! owned_halves {
    ($stream:ident, $addr:ty, $kind:literal) => {
        #[doc = concat!("The reading half of a [`", stringify!($stream), "::into_split`].")]
        #[derive(Debug)]
        pub struct OwnedReadHalf {
            stream: std::sync::Arc<$stream>,
        }

        #[doc = concat!(
            "The writing half of a [`", stringify!($stream), "::into_split`]; dropping it shuts down\n",
            "the write side (unless [`forget`](OwnedWriteHalf::forget) was called)."
        )]
        #[derive(Debug)]
        pub struct OwnedWriteHalf {
            stream: std::sync::Arc<$stream>,
            shutdown_on_drop: bool,
        }

        /// The two halves given to [`OwnedReadHalf::reunite`] came from different
        /// streams; here they are back.
        #[derive(Debug)]
        pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

        pub(crate) fn split_owned(stream: $stream) -> (OwnedReadHalf, OwnedWriteHalf) {
            let stream = std::sync::Arc::new(stream);
            (
                OwnedReadHalf {
                    stream: stream.clone(),
                },
                OwnedWriteHalf {
                    stream,
                    shutdown_on_drop: true,
                },
            )
        }

        impl OwnedReadHalf {
            fn stream(&self) -> &$stream {
                &self.stream
            }

            /// Joins the halves back into the stream, if they belong together.
            pub fn reunite(self, mut write: OwnedWriteHalf) -> Result<$stream, ReuniteError> {
                if !std::sync::Arc::ptr_eq(&self.stream, &write.stream) {
                    return Err(ReuniteError(self, write));
                }
                write.shutdown_on_drop = false;
                drop(write);
                Ok(std::sync::Arc::try_unwrap(self.stream)
                    .expect("both halves were given, so no other owner"))
            }
        }

        impl OwnedWriteHalf {
            fn stream(&self) -> &$stream {
                &self.stream
            }

            /// Joins the halves back into the stream, if they belong together.
            pub fn reunite(self, read: OwnedReadHalf) -> Result<$stream, ReuniteError> {
                read.reunite(self)
            }

            /// Drops the half without shutting down the write side.
            pub fn forget(mut self) {
                self.shutdown_on_drop = false;
            }

            /// Shuts down the write side now: the peer reads end-of-stream.
            pub fn shutdown(&self) -> std::io::Result<()> {
                self.stream.shutdown(std::net::Shutdown::Write)
            }
        }

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                if self.shutdown_on_drop {
                    // The peer may be gone already; nothing to report from a drop.
                    let _ = self.stream.shutdown(std::net::Shutdown::Write);
                }
            }
        }

        crate::stream_api::read_half!(OwnedReadHalf, $addr);
        crate::stream_api::write_half!(OwnedWriteHalf);

        impl std::fmt::Display for ReuniteError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(
                    "tried to reunite halves of two different ",
                    $kind,
                    " streams"
                ))
            }
        }

        impl std::error::Error for ReuniteError {}
    };
}

pub(crate) use {owned_halves, read_half, stream_io, write_half};
