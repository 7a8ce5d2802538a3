//! Pins how `polling` encodes a key in an epoll event.
//!
//! Corium's Linux backend waits on `polling`'s epoll fd itself and shares it
//! with `polling`'s own notifier (`usize::MAX`); it relies on `polling`
//! storing a source's key as the event's `u64` data, unchanged. If an
//! upgrade of `polling` changes that, this test fails loudly.
#![cfg(target_os = "linux")]

use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;

use rustix::event::epoll;

#[test]
fn polling_stores_the_key_as_epoll_data() {
    let poller = polling::Poller::new().unwrap();
    let (reader, mut writer) = UnixStream::pair().unwrap();
    reader.set_nonblocking(true).unwrap();
    let key = 0x1234_5678usize;
    // SAFETY: `reader` outlives its registration: it is deleted below before
    // it drops.
    unsafe { poller.add(&reader, polling::Event::readable(key)).unwrap() };
    writer.write_all(b"x").unwrap();

    let mut events = Vec::with_capacity(8);
    let timeout = rustix::event::Timespec {
        tv_sec: 5,
        tv_nsec: 0,
    };
    epoll::wait(
        poller.as_fd(),
        rustix::buffer::spare_capacity(&mut events),
        Some(&timeout),
    )
    .unwrap();
    let keys: Vec<u64> = events.iter().map(|e| e.data.u64()).collect();
    assert_eq!(keys, vec![key as u64], "polling changed its key encoding");
    poller.delete(&reader).unwrap();
}
