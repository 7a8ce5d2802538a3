//! `Ready`: the readiness bits a registration can hold, and `Interest`.

use std::fmt;
use std::ops;

/// A set of readiness states of an I/O source.
///
/// The closed and error states are sticky: clearing readiness after a
/// `WouldBlock` never erases them, because the kernel reports a FIN or an
/// error once, often in the same edge as the last data, and no later edge
/// will repeat it.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Ready(u8);

impl Ready {
    /// No readiness.
    pub const EMPTY: Ready = Ready(0);
    /// The source can be read without blocking.
    pub const READABLE: Ready = Ready(0b0_0001);
    /// The source can be written without blocking.
    pub const WRITABLE: Ready = Ready(0b0_0010);
    /// The peer closed its write side: reads return end-of-file.
    pub const READ_CLOSED: Ready = Ready(0b0_0100);
    /// The write side is closed: writes fail.
    pub const WRITE_CLOSED: Ready = Ready(0b0_1000);
    /// The source reported an error (`EPOLLERR`); the next call returns it.
    pub const ERROR: Ready = Ready(0b1_0000);
    /// Every readiness state.
    pub const ALL: Ready = Ready(0b1_1111);

    /// States that survive [`Registration::clear_readiness`](crate::Registration::clear_readiness).
    pub(crate) const STICKY: Ready = Ready(0b1_1100);

    /// Whether no state is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Whether the source is readable.
    pub fn is_readable(self) -> bool {
        self.contains(Ready::READABLE)
    }
    /// Whether the source is writable.
    pub fn is_writable(self) -> bool {
        self.contains(Ready::WRITABLE)
    }
    /// Whether the peer closed its write side.
    pub fn is_read_closed(self) -> bool {
        self.contains(Ready::READ_CLOSED)
    }
    /// Whether the write side is closed.
    pub fn is_write_closed(self) -> bool {
        self.contains(Ready::WRITE_CLOSED)
    }
    /// Whether an error is pending.
    pub fn is_error(self) -> bool {
        self.contains(Ready::ERROR)
    }
    /// Whether every state in `other` is set in `self`.
    pub fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }
    /// Whether any state in `other` is set in `self`.
    pub fn intersects(self, other: Ready) -> bool {
        self.0 & other.0 != 0
    }
    pub(crate) fn as_usize(self) -> usize {
        self.0 as usize
    }
    pub(crate) fn from_usize(bits: usize) -> Ready {
        Ready(bits as u8 & Ready::ALL.0)
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

impl ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, rhs: Ready) {
        self.0 |= rhs.0;
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;
    fn bitand(self, rhs: Ready) -> Ready {
        Ready(self.0 & rhs.0)
    }
}

impl ops::Sub for Ready {
    type Output = Ready;
    fn sub(self, rhs: Ready) -> Ready {
        Ready(self.0 & !rhs.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(Ready, &str); 5] = [
            (Ready::READABLE, "READABLE"),
            (Ready::WRITABLE, "WRITABLE"),
            (Ready::READ_CLOSED, "READ_CLOSED"),
            (Ready::WRITE_CLOSED, "WRITE_CLOSED"),
            (Ready::ERROR, "ERROR"),
        ];
        let mut set = f.debug_set();
        for (bit, name) in NAMES {
            if self.contains(bit) {
                set.entry(&format_args!("{name}"));
            }
        }
        set.finish()
    }
}

/// A direction a task waits in: reading or writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    /// Wait until the source is readable (or read-closed, or in error).
    Readable,
    /// Wait until the source is writable (or write-closed, or in error).
    Writable,
}

impl Interest {
    /// The readiness states that end a wait in this direction.
    pub fn mask(self) -> Ready {
        match self {
            Interest::Readable => Ready::READABLE | Ready::READ_CLOSED | Ready::ERROR,
            Interest::Writable => Ready::WRITABLE | Ready::WRITE_CLOSED | Ready::ERROR,
        }
    }
}
