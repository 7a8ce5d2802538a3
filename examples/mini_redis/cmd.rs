//! The commands: one parsed frame in, one reply appended to the output.
//!
//! Besides the data commands (`GET`, `SET`, `DEL`, `INCR`, `EXISTS`,
//! `EXPIRE`, `TTL`, `PTTL`, `DBSIZE`) it answers just enough of the
//! administrative ones for `redis-cli` and `redis-benchmark` to be content:
//! `CONFIG GET save|appendonly` (which `redis-benchmark` asks at startup),
//! `COMMAND ...` (an empty array: `redis-cli` then goes without hints),
//! `CLIENT ...`, `SELECT 0`, `INFO` and `QUIT`.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use corium::time::Instant;

use crate::db::{Db, IncrError, SharedDb, Ttl};
use crate::resp::{self, parse_i64, Frame};

/// What the connection does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on reading requests.
    Continue,
    /// Send the replies so far, then close (`QUIT`).
    Close,
}

/// The longest command name recognised; longer ones are unknown.
const MAX_NAME_LEN: usize = 16;

/// How much of a client's bytes an error message quotes.
const MAX_QUOTED_LEN: usize = 128;

/// The `CONFIG GET` parameters answered, with their values: the ones
/// `redis-benchmark` asks about before it starts.
const CONFIG: &[(&str, &str)] = &[("save", ""), ("appendonly", "no")];

const NOT_AN_INTEGER: &str = "value is not an integer or out of range";

/// Executes `frame` against `db`, appending its reply to `out`. A frame
/// without arguments (a blank line) gets no reply.
pub fn execute(frame: &Frame<'_>, db: &SharedDb, out: &mut Vec<u8>) -> Flow {
    let Some(name) = frame.arg(0) else {
        return Flow::Continue;
    };
    let mut upper = [0u8; MAX_NAME_LEN];
    let Some(upper) = upper.get_mut(..name.len()) else {
        unknown_command(frame, out);
        return Flow::Continue;
    };
    upper.copy_from_slice(name);
    upper.make_ascii_uppercase();
    let Some(arity_ok) = arity_ok(upper, frame.argc()) else {
        unknown_command(frame, out);
        return Flow::Continue;
    };
    if !arity_ok {
        resp::error(
            out,
            format_args!(
                "wrong number of arguments for '{}' command",
                Quoted(name).lowercase()
            ),
        );
        return Flow::Continue;
    }
    let arg = |i| frame.arg(i).unwrap_or_default();
    match &*upper {
        b"PING" => match frame.arg(1) {
            None => resp::simple(out, "PONG"),
            Some(message) => resp::bulk(out, message),
        },
        b"ECHO" => resp::bulk(out, arg(1)),
        b"GET" => get(&mut db.lock(), arg(1), out),
        b"SET" => set(db, frame, out),
        b"DEL" => {
            let mut db = db.lock();
            let removed = frame.args_from(1).filter(|key| db.remove(key)).count();
            resp::integer(out, removed as i64);
        }
        b"EXISTS" => {
            let mut db = db.lock();
            let found = frame.args_from(1).filter(|key| db.contains(key)).count();
            resp::integer(out, found as i64);
        }
        b"INCR" => incr(&mut db.lock(), arg(1), out),
        b"EXPIRE" => expire(db, arg(1), arg(2), out),
        b"TTL" => ttl(&mut db.lock(), arg(1), Duration::from_secs(1), out),
        b"PTTL" => ttl(&mut db.lock(), arg(1), Duration::from_millis(1), out),
        b"DBSIZE" => resp::integer(out, db.lock().len() as i64),
        b"SELECT" => match parse_i64(arg(1)) {
            Some(0) => resp::ok(out),
            Some(_) => resp::error(out, "DB index is out of range"),
            None => resp::error(out, NOT_AN_INTEGER),
        },
        b"CONFIG" => config(frame, out),
        b"COMMAND" => resp::array_header(out, 0),
        b"INFO" => resp::bulk(
            out,
            b"# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\n",
        ),
        b"QUIT" => {
            resp::ok(out);
            return Flow::Close;
        }
        // `CLIENT SETNAME`, `CLIENT SETINFO` and the like: accepted, ignored.
        b"CLIENT" => resp::ok(out),
        _ => unknown_command(frame, out),
    }
    Flow::Continue
}

/// Whether `argc` arguments (the name included) suit the command `name`
/// (upper case); `None` for an unknown command.
fn arity_ok(name: &[u8], argc: usize) -> Option<bool> {
    Some(match name {
        b"PING" => argc <= 2,
        b"ECHO" | b"GET" | b"INCR" | b"TTL" | b"PTTL" | b"SELECT" => argc == 2,
        b"SET" => argc >= 3,
        b"DEL" | b"EXISTS" | b"CONFIG" | b"CLIENT" => argc >= 2,
        b"EXPIRE" => argc == 3,
        b"DBSIZE" | b"QUIT" => argc == 1,
        b"COMMAND" | b"INFO" => true,
        _ => return None,
    })
}

fn get(db: &mut Db, key: &[u8], out: &mut Vec<u8>) {
    if db.get(key, |value| resp::bulk(out, value)).is_none() {
        resp::null(out);
    }
}

/// `SET key value [EX seconds | PX milliseconds]`.
fn set(db: &SharedDb, frame: &Frame<'_>, out: &mut Vec<u8>) {
    let mut ttl = None;
    let mut options = frame.args_from(3);
    while let Some(option) = options.next() {
        let unit = if option.eq_ignore_ascii_case(b"EX") {
            Unit::Seconds
        } else if option.eq_ignore_ascii_case(b"PX") {
            Unit::Millis
        } else {
            return resp::error(out, "syntax error");
        };
        let (None, Some(amount)) = (ttl, options.next()) else {
            return resp::error(out, "syntax error");
        };
        let Some(amount) = parse_i64(amount) else {
            return resp::error(out, NOT_AN_INTEGER);
        };
        ttl = Some((amount, unit));
    }
    let expires_at = match ttl {
        None => None,
        Some((amount, unit)) => match deadline(amount, unit) {
            Some(deadline) => Some(deadline),
            None => return resp::error(out, "invalid expire time in 'set' command"),
        },
    };
    let (key, value) = (frame.arg(1), frame.arg(2));
    db.lock().set(
        key.unwrap_or_default(),
        value.unwrap_or_default(),
        expires_at,
    );
    resp::ok(out);
}

fn incr(db: &mut Db, key: &[u8], out: &mut Vec<u8>) {
    match db.incr(key) {
        Ok(value) => resp::integer(out, value),
        Err(IncrError::NotAnInteger) => resp::error(out, NOT_AN_INTEGER),
        Err(IncrError::Overflow) => resp::error(out, "increment or decrement would overflow"),
    }
}

/// `EXPIRE key seconds`: 1 if the key exists; zero or negative seconds
/// delete it.
fn expire(db: &SharedDb, key: &[u8], seconds: &[u8], out: &mut Vec<u8>) {
    let Some(seconds) = parse_i64(seconds) else {
        return resp::error(out, NOT_AN_INTEGER);
    };
    let mut db = db.lock();
    let existed = if seconds <= 0 {
        db.remove(key)
    } else {
        let Some(deadline) = deadline(seconds, Unit::Seconds) else {
            return resp::error(out, "invalid expire time in 'expire' command");
        };
        db.expire(key, deadline)
    };
    resp::integer(out, i64::from(existed));
}

/// `TTL`/`PTTL`: -2 for a missing key, -1 for one without a deadline, else
/// the time left in `unit`s, rounded to nearest as Redis does.
fn ttl(db: &mut Db, key: &[u8], unit: Duration, out: &mut Vec<u8>) {
    let reply = match db.ttl(key) {
        Ttl::Missing => -2,
        Ttl::Persistent => -1,
        Ttl::Remaining(left) => {
            let units = (left.as_nanos() + unit.as_nanos() / 2) / unit.as_nanos();
            i64::try_from(units).unwrap_or(i64::MAX)
        }
    };
    resp::integer(out, reply);
}

/// `amount` `unit`s from now, `None` unless `amount` is positive and, as
/// Redis requires, the deadline in milliseconds fits an `i64`.
fn deadline(amount: i64, unit: Unit) -> Option<Instant> {
    let millis = match unit {
        Unit::Seconds => amount.checked_mul(1000)?,
        Unit::Millis => amount,
    };
    let millis = u64::try_from(millis).ok().filter(|&millis| millis > 0)?;
    let deadline = Instant::now().checked_add(Duration::from_millis(millis))?;
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(since_epoch.as_millis())
        .ok()?
        .checked_add_unsigned(millis)?;
    Some(deadline)
}

/// The unit of an expiry given to `SET` or `EXPIRE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Millis,
}

/// `CONFIG GET param...` answers the parameters in [`CONFIG`] (an empty
/// array for others); every other subcommand is accepted and ignored.
fn config(frame: &Frame<'_>, out: &mut Vec<u8>) {
    if !frame
        .arg(1)
        .unwrap_or_default()
        .eq_ignore_ascii_case(b"GET")
    {
        return resp::ok(out);
    }
    let wanted = |name: &str| {
        frame
            .args_from(2)
            .any(|pattern| pattern == b"*" || pattern.eq_ignore_ascii_case(name.as_bytes()))
    };
    let matches = CONFIG.iter().filter(|(name, _)| wanted(name)).count();
    resp::array_header(out, matches * 2);
    for (name, value) in CONFIG.iter().filter(|(name, _)| wanted(name)) {
        resp::bulk(out, name.as_bytes());
        resp::bulk(out, value.as_bytes());
    }
}

/// `ERR unknown command 'name', with args beginning with: 'a' 'b'`, as
/// Redis words it.
fn unknown_command(frame: &Frame<'_>, out: &mut Vec<u8>) {
    struct Message<'f, 'a>(&'f Frame<'a>);
    impl fmt::Display for Message<'_, '_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let name = self.0.arg(0).unwrap_or_default();
            write!(
                f,
                "unknown command '{}', with args beginning with: ",
                Quoted(name)
            )?;
            let mut budget = MAX_QUOTED_LEN;
            for arg in self.0.args_from(1) {
                let shown = &arg[..arg.len().min(budget)];
                write!(f, "'{}' ", Quoted(shown))?;
                budget -= shown.len();
                if budget == 0 {
                    break;
                }
            }
            Ok(())
        }
    }
    resp::error(out, Message(frame));
}

/// A client's bytes in an error message: at most [`MAX_QUOTED_LEN`] of
/// them, invalid UTF-8 replaced (CR and LF are replaced by `resp::error`).
struct Quoted<'a>(&'a [u8]);

impl Quoted<'_> {
    fn lowercase(&self) -> String {
        self.to_string().to_lowercase()
    }
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = &self.0[..self.0.len().min(MAX_QUOTED_LEN)];
        f.write_str(&String::from_utf8_lossy(shown))
    }
}
