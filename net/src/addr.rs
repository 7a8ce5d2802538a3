//! Socket addresses from anything address-like, resolved without blocking
//! the reactor.
//!
//! IP literals (`"127.0.0.1:8080"`, `("::1", 80)`, a `SocketAddr`) are
//! parsed inline. A host name (`("localhost", 8080)`) is resolved by the
//! system resolver on the runtime's blocking pool, which the executor hands
//! down to the reactor (DESIGN.md): the reactor thread never waits on DNS.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use corium_reactor::Handle;

/// Something that names one or more socket addresses, as
/// `std::net::ToSocketAddrs`, but resolved asynchronously.
///
/// Implemented for `SocketAddr` and its V4/V6 forms, `(IpAddr, u16)` and
/// its V4/V6 forms, `(&str, u16)`, `(String, u16)`, `&str` and `String`
/// (`"host:port"`), `&[SocketAddr]`, and references to any of them.
pub trait ToSocketAddrs: sealed::Sealed {}

pub(crate) mod sealed {
    use super::Resolve;

    /// How an address-like value turns into addresses.
    pub trait Sealed {
        fn resolve(&self) -> Resolve;
    }
}

/// The addresses now, or a host name that needs the resolver.
#[doc(hidden)]
#[derive(Debug)]
pub enum Resolve {
    Ready(Vec<SocketAddr>),
    Lookup(String),
}

/// Resolves `addr` to its socket addresses (all of them, in the resolver's
/// order).
pub(crate) async fn resolve<A: ToSocketAddrs>(addr: A) -> io::Result<Vec<SocketAddr>> {
    match addr.resolve() {
        Resolve::Ready(addrs) => Ok(addrs),
        Resolve::Lookup(host) => lookup_blocking(host).await,
    }
}

/// Runs the system resolver on the blocking pool.
async fn lookup_blocking(host: String) -> io::Result<Vec<SocketAddr>> {
    let (tx, rx) = futures_channel::oneshot::channel();
    let job = Box::new(move || {
        let result = std::net::ToSocketAddrs::to_socket_addrs(&host).map(Iterator::collect);
        let _ = tx.send(result);
    });
    Handle::current().spawn_blocking(job)?;
    rx.await.unwrap_or_else(|_| {
        Err(io::Error::other(
            "the runtime shut down before the host name was resolved",
        ))
    })
}

/// Resolves `host` (a `"name:port"` string or any [`ToSocketAddrs`]) to its
/// socket addresses, without blocking the reactor.
///
/// ```
/// # corium::block_on(async {
/// let mut addrs = corium::net::lookup_host("127.0.0.1:80").await.unwrap();
/// assert_eq!(addrs.next(), Some("127.0.0.1:80".parse().unwrap()));
/// # });
/// ```
pub async fn lookup_host<A: ToSocketAddrs>(
    host: A,
) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(resolve(host).await?.into_iter())
}

/// The error when an address names nothing.
pub(crate) fn no_addresses() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "the address resolved to no socket addresses",
    )
}

/// Tries `op` on every address in turn; returns the first success or the
/// last error.
pub(crate) async fn each_addr<A, T, F, Fut>(addr: A, mut op: F) -> io::Result<T>
where
    A: ToSocketAddrs,
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last = None;
    for addr in resolve(addr).await? {
        match op(addr).await {
            Ok(value) => return Ok(value),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(no_addresses))
}

fn host_port(host: &str, port: u16) -> Resolve {
    match host.parse::<IpAddr>() {
        Ok(ip) => Resolve::Ready(vec![SocketAddr::new(ip, port)]),
        Err(_) => Resolve::Lookup(format!("{host}:{port}")),
    }
}

fn host_and_port(s: &str) -> Resolve {
    match s.parse::<SocketAddr>() {
        Ok(addr) => Resolve::Ready(vec![addr]),
        Err(_) => Resolve::Lookup(s.to_owned()),
    }
}

/// Implements the traits for types that are one address already.
macro_rules! direct {
    ($($ty:ty),*) => {$(
        impl ToSocketAddrs for $ty {}
        impl sealed::Sealed for $ty {
            fn resolve(&self) -> Resolve {
                Resolve::Ready(vec![SocketAddr::from(*self)])
            }
        }
    )*};
}

direct!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16),
    ([u8; 4], u16)
);

impl ToSocketAddrs for str {}
impl sealed::Sealed for str {
    fn resolve(&self) -> Resolve {
        host_and_port(self)
    }
}

impl ToSocketAddrs for String {}
impl sealed::Sealed for String {
    fn resolve(&self) -> Resolve {
        host_and_port(self)
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::Sealed for (&str, u16) {
    fn resolve(&self) -> Resolve {
        host_port(self.0, self.1)
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::Sealed for (String, u16) {
    fn resolve(&self) -> Resolve {
        host_port(&self.0, self.1)
    }
}

impl ToSocketAddrs for [SocketAddr] {}
impl sealed::Sealed for [SocketAddr] {
    fn resolve(&self) -> Resolve {
        Resolve::Ready(self.to_vec())
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrs + ?Sized> sealed::Sealed for &T {
    fn resolve(&self) -> Resolve {
        (**self).resolve()
    }
}
