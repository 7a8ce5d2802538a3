//! RESP, the Redis protocol: a resumable request parser and reply encoders.
//!
//! A request is either a multibulk frame (`*<n>\r\n` then `n` times
//! `$<len>\r\n<len bytes>\r\n`) or an inline command (one line of words
//! separated by spaces, as typed into telnet). The parser never copies an
//! argument: it records each one as a range of the read buffer, so a
//! command is executed straight from the bytes that arrived.
//!
//! The parser's rules, on which the server's bounds on memory and time rest:
//!
//! 1. Nothing is reserved from a length the client claims: a frame's
//!    argument list grows as arguments arrive, and the bytes of a bulk are
//!    waited for, not allocated.
//! 2. Every length is checked before it is trusted: a multibulk count over
//!    [`MAX_ARGS`], a bulk over [`MAX_BULK_LEN`], a length line or an inline
//!    line that runs on without its CRLF are protocol errors.
//! 3. A frame that is not complete yet is resumed, not re-parsed: the
//!    parser keeps the arguments it has and the offset of the next one (in
//!    an inline line, how far it has searched for the newline), so a frame
//!    trickling in over many reads costs linear time. The offsets
//!    are relative to the frame's first byte, so the caller may move the
//!    unconsumed bytes (compact its buffer) between calls.

use std::fmt;
use std::ops::Range;

/// The largest bulk string accepted, as Redis's `proto-max-bulk-len`.
pub const MAX_BULK_LEN: usize = 512 * 1024 * 1024;

/// The most arguments in one multibulk frame (Redis allows 1024 * 1024
/// before authentication).
pub const MAX_ARGS: usize = 1024 * 1024;

/// The longest inline command line, as Redis's `PROTO_INLINE_MAX_SIZE`.
pub const MAX_INLINE_LEN: usize = 64 * 1024;

/// The longest `*<n>` or `$<len>` line, CRLF excluded: a sign and the 19
/// digits of an `i64`, with room to spare. Longer is an error at once, so
/// a client cannot make the parser scan megabytes for a CRLF.
const MAX_LENGTH_LINE: usize = 32;

/// A frame's argument list larger than this is dropped after the frame,
/// so one huge request does not pin its memory for the connection's life.
const KEEP_ARGS: usize = 1024;

/// Why a request could not be parsed; the connection cannot be trusted to
/// be in step after one, so the server replies with it and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// `*` followed by something that is not a count up to [`MAX_ARGS`].
    InvalidMultibulkLength,
    /// `$` followed by something that is not a length up to
    /// [`MAX_BULK_LEN`].
    InvalidBulkLength,
    /// A multibulk argument that does not start with `$`.
    ExpectedBulk(u8),
    /// A length line or a bulk not terminated by CRLF.
    ExpectedCrlf,
    /// An inline line longer than [`MAX_INLINE_LEN`].
    InlineTooLong,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Protocol error: ")?;
        match self {
            ProtocolError::InvalidMultibulkLength => f.write_str("invalid multibulk length"),
            ProtocolError::InvalidBulkLength => f.write_str("invalid bulk length"),
            ProtocolError::ExpectedBulk(got) => {
                write!(
                    f,
                    "expected '$', got '{}'",
                    char::from(*got).escape_default()
                )
            }
            ProtocolError::ExpectedCrlf => f.write_str("expected CRLF"),
            ProtocolError::InlineTooLong => f.write_str("too big inline request"),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// One parsed request: its arguments, borrowed from the read buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    buf: &'a [u8],
    args: &'a [Range<usize>],
    len: usize,
}

impl<'a> Frame<'a> {
    /// How many bytes of the buffer the frame took (the caller consumes
    /// them once it is done with the frame).
    pub fn encoded_len(&self) -> usize {
        self.len
    }

    /// The number of arguments, the command name included; zero for an
    /// empty request (`*0\r\n` or a blank inline line), which gets no reply.
    pub fn argc(&self) -> usize {
        self.args.len()
    }

    /// Argument `i` (0 is the command name).
    pub fn arg(&self, i: usize) -> Option<&'a [u8]> {
        let range = self.args.get(i)?;
        self.buf.get(range.clone())
    }

    /// The arguments from `i` on.
    pub fn args_from(&self, i: usize) -> impl Iterator<Item = &'a [u8]> + 'a {
        let buf = self.buf;
        self.args
            .get(i..)
            .unwrap_or_default()
            .iter()
            .filter_map(move |range| buf.get(range.clone()))
    }
}

/// Where the parser is within the current frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first byte of a frame.
    Start,
    /// Inside an inline command, its newline not found up to `pos`.
    Inline,
    /// Inside a multibulk frame, this many arguments still to come.
    Bulks { pending: usize },
    /// The last call returned a complete frame, to be cleared on the next.
    Done,
}

/// Parses requests out of the unconsumed part of a read buffer; see the
/// module docs for the rules it keeps.
#[derive(Debug)]
pub struct Parser {
    /// The arguments of the current frame, relative to its first byte.
    args: Vec<Range<usize>>,
    /// Offset of the first byte not parsed yet, relative to the frame.
    pos: usize,
    state: State,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

impl Parser {
    /// A parser at the start of a frame.
    pub fn new() -> Parser {
        Parser {
            args: Vec::new(),
            pos: 0,
            state: State::Start,
        }
    }

    /// Parses the frame at the start of `buf`: `Ok(None)` if more bytes are
    /// needed (call again with `buf` extended, starting at the same frame).
    /// After a frame is returned, the next call starts a new frame, so the
    /// caller must first drop the frame's bytes from the front of `buf`.
    pub fn next_frame<'a>(&'a mut self, buf: &'a [u8]) -> Result<Option<Frame<'a>>, ProtocolError> {
        if self.state == State::Done {
            if self.args.capacity() > KEEP_ARGS {
                self.args = Vec::new();
            }
            self.args.clear();
            self.pos = 0;
            self.state = State::Start;
        }
        if self.state == State::Start {
            match buf.first() {
                None => return Ok(None),
                Some(b'*') => {
                    if !self.multibulk_header(buf)? {
                        return Ok(None);
                    }
                }
                Some(_) => self.state = State::Inline,
            }
        }
        if self.state == State::Inline {
            return self.inline(buf);
        }
        while let State::Bulks { pending } = self.state {
            if pending == 0 {
                break;
            }
            if !self.bulk(buf)? {
                return Ok(None);
            }
            self.state = State::Bulks {
                pending: pending - 1,
            };
        }
        Ok(Some(self.finish(buf, self.pos)))
    }

    /// Parses `*<n>\r\n`; false if it has not all arrived.
    fn multibulk_header(&mut self, buf: &[u8]) -> Result<bool, ProtocolError> {
        let Some((count, next)) = length_line(buf, 1, ProtocolError::InvalidMultibulkLength)?
        else {
            return Ok(false);
        };
        // Redis treats `*0` and negative counts as an empty request.
        let pending = usize::try_from(count).unwrap_or(0);
        if pending > MAX_ARGS {
            return Err(ProtocolError::InvalidMultibulkLength);
        }
        self.pos = next;
        self.state = State::Bulks { pending };
        Ok(true)
    }

    /// Parses one `$<len>\r\n<bytes>\r\n` at `self.pos`; false if it has
    /// not all arrived (its header is parsed again next time: it is short).
    fn bulk(&mut self, buf: &[u8]) -> Result<bool, ProtocolError> {
        let Some(&first) = buf.get(self.pos) else {
            return Ok(false);
        };
        if first != b'$' {
            return Err(ProtocolError::ExpectedBulk(first));
        }
        let Some((len, start)) = length_line(buf, self.pos + 1, ProtocolError::InvalidBulkLength)?
        else {
            return Ok(false);
        };
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| len <= MAX_BULK_LEN)
            .ok_or(ProtocolError::InvalidBulkLength)?;
        let end = start + len;
        let Some(terminator) = buf.get(end..end + 2) else {
            return Ok(false);
        };
        if terminator != b"\r\n" {
            return Err(ProtocolError::ExpectedCrlf);
        }
        self.args.push(start..end);
        self.pos = end + 2;
        Ok(true)
    }

    /// Parses an inline command: one line, words split on spaces and tabs.
    /// The search for its newline resumes where the last call stopped, so
    /// a line trickling in byte by byte is scanned once.
    fn inline<'a>(&'a mut self, buf: &'a [u8]) -> Result<Option<Frame<'a>>, ProtocolError> {
        let unscanned = buf.get(self.pos..).unwrap_or_default();
        let Some(newline) = unscanned.iter().position(|&b| b == b'\n') else {
            self.pos = buf.len();
            if buf.len() > MAX_INLINE_LEN {
                return Err(ProtocolError::InlineTooLong);
            }
            return Ok(None);
        };
        let newline = self.pos + newline;
        if newline > MAX_INLINE_LEN {
            return Err(ProtocolError::InlineTooLong);
        }
        let line_end = if newline > 0 && buf[newline - 1] == b'\r' {
            newline - 1
        } else {
            newline
        };
        let mut word_start = None;
        for (i, &byte) in buf[..line_end].iter().enumerate() {
            match (byte == b' ' || byte == b'\t', word_start) {
                (false, None) => word_start = Some(i),
                (true, Some(start)) => {
                    self.args.push(start..i);
                    word_start = None;
                }
                _ => {}
            }
        }
        if let Some(start) = word_start {
            self.args.push(start..line_end);
        }
        Ok(Some(self.finish(buf, newline + 1)))
    }

    fn finish<'a>(&'a mut self, buf: &'a [u8], len: usize) -> Frame<'a> {
        self.state = State::Done;
        Frame {
            buf,
            args: &self.args,
            len,
        }
    }
}

/// Parses the decimal number from `buf[from..]` up to its CRLF: the number
/// and the offset after the CRLF, `None` if the CRLF has not arrived, or
/// `invalid` if the line is not a number.
fn length_line(
    buf: &[u8],
    from: usize,
    invalid: ProtocolError,
) -> Result<Option<(i64, usize)>, ProtocolError> {
    let rest = buf.get(from..).unwrap_or_default();
    let window = &rest[..rest.len().min(MAX_LENGTH_LINE + 1)];
    let Some(cr) = window.iter().position(|&b| b == b'\r') else {
        if window.len() > MAX_LENGTH_LINE {
            return Err(invalid);
        }
        return Ok(None);
    };
    match rest.get(cr + 1) {
        None => return Ok(None),
        Some(b'\n') => {}
        Some(_) => return Err(ProtocolError::ExpectedCrlf),
    }
    let number = parse_i64(&rest[..cr]).ok_or(invalid)?;
    Ok(Some((number, from + cr + 2)))
}

/// Parses a decimal `i64` strictly, as Redis's `string2ll`: an optional
/// `-`, then digits without leading zeros; no `+`, no spaces, no overflow.
pub fn parse_i64(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text {
        [b'-', digits @ ..] => (true, digits),
        digits => (false, digits),
    };
    match digits {
        [] => return None,
        [b'0'] => return (!negative).then_some(0),
        [b'0', ..] => return None,
        _ => {}
    }
    let mut magnitude: u64 = 0;
    for &byte in digits {
        let digit = byte.checked_sub(b'0').filter(|d| *d <= 9)?;
        magnitude = magnitude.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

// Reply encoders: each appends one complete reply to `out`.

/// `+<text>\r\n`; `text` must not contain CR or LF.
pub fn simple(out: &mut Vec<u8>, text: &str) {
    out.push(b'+');
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// `+OK\r\n`.
pub fn ok(out: &mut Vec<u8>) {
    out.extend_from_slice(b"+OK\r\n");
}

/// `-ERR <message>\r\n`, with any CR or LF in `message` turned into spaces
/// (a message may quote the client's bytes).
pub fn error(out: &mut Vec<u8>, message: impl fmt::Display) {
    error_with_code(out, "ERR", message);
}

/// `-<code> <message>\r\n`, sanitised as [`error`].
pub fn error_with_code(out: &mut Vec<u8>, code: &str, message: impl fmt::Display) {
    use std::io::Write;
    out.push(b'-');
    out.extend_from_slice(code.as_bytes());
    out.push(b' ');
    let start = out.len();
    // Writing into a `Vec` cannot fail.
    let _ = write!(out, "{message}");
    for byte in &mut out[start..] {
        if *byte == b'\r' || *byte == b'\n' {
            *byte = b' ';
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// `:<n>\r\n`.
pub fn integer(out: &mut Vec<u8>, n: i64) {
    out.push(b':');
    decimal(out, n);
    out.extend_from_slice(b"\r\n");
}

/// `$<len>\r\n<bytes>\r\n`.
pub fn bulk(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 16);
    out.push(b'$');
    decimal(out, bytes.len() as i64);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

/// The null bulk string, `$-1\r\n`.
pub fn null(out: &mut Vec<u8>) {
    out.extend_from_slice(b"$-1\r\n");
}

/// `*<len>\r\n`, the header of an array whose `len` elements follow.
pub fn array_header(out: &mut Vec<u8>, len: usize) {
    out.push(b'*');
    decimal(out, len as i64);
    out.extend_from_slice(b"\r\n");
}

/// Appends `n` in decimal without going through `fmt` (replies are the hot
/// path).
pub fn decimal(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut magnitude = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}
