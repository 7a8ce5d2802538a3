//! A line-based chat room: each line a client sends reaches every other
//! client as `guest42: hello`, with notices when someone joins or leaves.
//!
//! It shows tasks sharing state through a channel instead of a lock: the
//! room is one `broadcast` channel. Each connection is one task running two
//! loops side by side on the halves of its socket: a reader that turns the
//! client's lines into messages and a forwarder that writes the room's
//! messages to the client. Whichever ends first (the client hung up, or
//! writing to it failed) ends the other. A client slow to read holds up
//! nobody: its forwarder waits on its socket while the room moves on, and
//! if it falls more than `ROOM_CAPACITY` messages behind, it is told how
//! many it missed (`RecvError::Lagged`) and carries on from there.
//!
//! ```sh
//! cargo run --example chat            # then, in two other terminals:
//! nc 127.0.0.1 7001
//! ```

use std::io;
use std::pin::pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use corium::net::tcp::{ReadHalf, WriteHalf};
use corium::net::TcpStream;
use corium::sync::broadcast::{self, error::RecvError};
use futures_util::future::select;
use futures_util::io::{AsyncBufReadExt, BufReader};

#[path = "common/cli.rs"]
mod cli;

/// Messages the room keeps for a client that has not read them yet; one
/// further behind loses the oldest and is told how many.
const ROOM_CAPACITY: usize = 128;

/// The longest line accepted, so a client cannot make the server buffer
/// without bound; a longer one ends the connection.
const MAX_LINE: u64 = 4 * 1024;

/// How long the accept loop rests after an error such as `EMFILE`: the
/// pending connection stays queued, so retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A line for the room, newline included. The sender's own forwarder
/// skips it by `from`.
#[derive(Clone, Debug)]
struct Message {
    from: u64,
    text: Arc<str>,
}

type Room = broadcast::Sender<Message>;

fn main() -> ExitCode {
    cli::main("chat", "127.0.0.1:7001", &[], serve)
}

/// Accepts clients forever; each gets a name and a task.
async fn serve(options: &cli::Options) -> io::Result<()> {
    let addr = &options.addr;
    let listener = cli::listen(addr).await?;
    // Every client subscribes on arrival; the first receiver is not needed.
    let (room, _) = broadcast::channel(ROOM_CAPACITY);
    let mut guests = 0u64;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("accept failed: {e}; retrying in {ACCEPT_BACKOFF:?}");
                corium::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        guests += 1;
        let room = room.clone();
        corium::spawn(async move {
            if let Err(e) = client(stream, guests, room).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

/// Runs one client from its welcome to its leave notice.
async fn client(mut stream: TcpStream, id: u64, room: Room) -> io::Result<()> {
    let name = format!("guest{id}");
    // Subscribe before the welcome: once a client has read its welcome
    // line, it receives every line anyone sends after that. And announce
    // the arrival before the welcome too: a client that connects after
    // this one read its welcome must not be told it joined (on the
    // multi-thread flavor that client's task may run in between).
    let inbox = room.subscribe();
    let others = room.receiver_count() - 1;
    say(&room, id, format!("*** {name} joined\n"));
    let welcome = format!("*** welcome, {name}; {others} other(s) here\n");
    stream.write_all(welcome.as_bytes()).await?;

    let (reader, writer) = stream.split();
    let reading = pin!(read_lines(reader, &name, id, &room));
    let forwarding = pin!(forward(inbox, writer, id));
    // The first loop to finish decides the outcome; `select` drops the
    // other where it stands, which both loops allow.
    let (outcome, _) = select(reading, forwarding).await.factor_first();
    say(&room, id, format!("*** {name} left\n"));
    outcome
}

/// Sends each of the client's lines to the room until it disconnects.
async fn read_lines(reader: ReadHalf<'_>, name: &str, id: u64, room: &Room) -> io::Result<()> {
    // Imported here only: in scope above, its by-value `split` would be
    // picked over `TcpStream::split`.
    use futures_util::io::AsyncReadExt;

    let mut reader = BufReader::new(reader);
    let mut line = String::new();
    loop {
        line.clear();
        let n = (&mut reader).take(MAX_LINE).read_line(&mut line).await?;
        if n == 0 {
            return Ok(());
        }
        if n as u64 == MAX_LINE && !line.ends_with('\n') {
            let message = format!("a line longer than {MAX_LINE} bytes");
            return Err(io::Error::new(io::ErrorKind::InvalidData, message));
        }
        let text = line.trim_end();
        if !text.is_empty() {
            say(room, id, format!("{name}: {text}\n"));
        }
    }
}

/// Writes the room's messages, except the client's own, to its socket.
async fn forward(
    mut inbox: broadcast::Receiver<Message>,
    mut writer: WriteHalf<'_>,
    id: u64,
) -> io::Result<()> {
    loop {
        match inbox.recv().await {
            Ok(message) if message.from == id => {}
            Ok(message) => writer.write_all(message.text.as_bytes()).await?,
            Err(RecvError::Lagged(missed)) => {
                let notice = format!("*** you fell behind and missed {missed} message(s)\n");
                writer.write_all(notice.as_bytes()).await?;
            }
            Err(RecvError::Closed) => return Ok(()),
        }
    }
}

/// Broadcasts `text` from client `from`. A send fails only when nobody is
/// subscribed, and then there is nobody to tell.
fn say(room: &Room, from: u64, text: String) {
    let _ = room.send(Message {
        from,
        text: text.into(),
    });
}
