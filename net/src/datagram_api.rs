//! The methods every datagram socket shares, written once for
//! `UdpSocket` and `UnixDatagram`.
//!
//! The [`datagram_io!`] macro gives a socket type with an
//! `io: SocketIo<_>` field its connected `send`/`recv`, its `recv_from`
//! and its readiness methods, each in the async, `poll_` and `try_` forms
//! that apply; the second macro argument is the sender address type.

/// The sending, receiving and readiness methods of a datagram socket,
/// written once for UDP and Unix; `$addr` is the socket's address type.
macro_rules! datagram_io {
    ($socket:ty, $addr:ty) => {
        impl $socket {
            /// Sends `buf` as one datagram to the connected peer.
            ///
            /// # Cancel safety
            /// Cancel safe: if dropped before completing, nothing was sent.
            pub async fn send(&self, buf: &[u8]) -> std::io::Result<usize> {
                std::future::poll_fn(|cx| self.poll_send(cx, buf)).await
            }

            /// Polls to send `buf` to the connected peer.
            pub fn poll_send(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io
                    .poll_io(cx, corium_reactor::Interest::Writable, |s| {
                        crate::socket_io::send(s, buf)
                    })
            }

            /// Sends to the connected peer now if there is room, else `WouldBlock`.
            pub fn try_send(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.io.try_io(corium_reactor::Interest::Writable, |s| {
                    crate::socket_io::send(s, buf)
                })
            }

            /// Receives one datagram from the connected peer.
            ///
            /// # Cancel safety
            /// Cancel safe: if dropped before completing, nothing was received.
            pub async fn recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                std::future::poll_fn(|cx| self.poll_recv(cx, buf)).await
            }

            /// Polls to receive one datagram.
            pub fn poll_recv(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                // Not `poll_recv` of the stream types: a datagram shorter than the
                // buffer says nothing about the queue, so readiness is kept.
                self.io
                    .poll_io(cx, corium_reactor::Interest::Readable, |s| {
                        s.recv(&mut *buf)
                    })
            }

            /// Receives a datagram now if one is queued, else `WouldBlock`.
            pub fn try_recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.io
                    .try_io(corium_reactor::Interest::Readable, |s| s.recv(buf))
            }

            /// Receives one datagram and the address of its sender.
            ///
            /// # Cancel safety
            /// Cancel safe: if dropped before completing, nothing was received.
            pub async fn recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, $addr)> {
                std::future::poll_fn(|cx| self.poll_recv_from(cx, buf)).await
            }

            /// Polls to receive one datagram and its sender's address.
            pub fn poll_recv_from(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<(usize, $addr)>> {
                self.io
                    .poll_io(cx, corium_reactor::Interest::Readable, |s| {
                        s.recv_from(&mut *buf)
                    })
            }

            /// Receives a datagram and its sender's address now if one is queued,
            /// else `WouldBlock`.
            pub fn try_recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, $addr)> {
                self.io
                    .try_io(corium_reactor::Interest::Readable, |s| s.recv_from(buf))
            }

            /// Waits until the socket is ready in `interest`'s direction.
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
                self.io.ready(interest).await
            }

            /// Waits until a datagram may be received (see [`ready`](Self::ready)).
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn readable(&self) -> std::io::Result<()> {
                self.ready(corium_reactor::Interest::Readable)
                    .await
                    .map(drop)
            }

            /// Waits until a datagram may be sent (see [`ready`](Self::ready)).
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn writable(&self) -> std::io::Result<()> {
                self.ready(corium_reactor::Interest::Writable)
                    .await
                    .map(drop)
            }

            /// Runs any non-blocking operation `op` on the socket under the
            /// readiness protocol (`WouldBlock` clears readiness).
            pub fn try_io<R>(
                &self,
                interest: corium_reactor::Interest,
                op: impl FnOnce() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.try_io(interest, |_| op())
            }
        }
    };
}

pub(crate) use datagram_io;
