//! The methods every stream and stream half shares, written once for TCP
//! and Unix streams.
//!
//! `read_exact` and `write_all` loop over a [`SocketIo`]. The
//! [`read_half!`] and [`write_half!`] macros give a half type (borrowed or
//! owned, TCP or Unix) its reading or writing methods and `futures-io`
//! impls. They expect the half to have a private `fn stream(&self) ->
//! &Stream`, where `Stream` has `socket_io()`, `readable()`, `writable()`,
//! `try_read()`, `try_write()`, `local_addr()`, `peer_addr()` and
//! `shutdown(Shutdown)`; the second macro argument is the address type
//! those return.

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

pub(crate) use {read_half, write_half};
