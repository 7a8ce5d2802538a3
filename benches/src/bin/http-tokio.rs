//! `http-tokio`: examples/http_hello.rs on tokio `current_thread`, ported
//! line for line (the example is one file on Corium's API, so its logic
//! cannot be included by path): read what has arrived, answer every
//! complete request in it with one write, keep the unfinished tail;
//! `Connection: close` / HTTP/1.0 close after the answer, a header over
//! 8 KiB gets `431`.
//!
//! `http-tokio [--addr HOST:PORT]`: prints `listening on <addr>` once bound
//! and serves until killed. Used by `benches/net/app.sh`.

#[path = "shared/server_cli.rs"]
mod server_cli;

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const NAME: &str = "http-tokio";

/// The answer to every request on a kept-alive connection.
const HELLO: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, world!";

/// The answer to a request after which the server closes the connection.
const HELLO_AND_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nHello, world!";

/// The answer to a header that does not fit in `MAX_HEADER`.
const TOO_LARGE: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// The largest request header accepted, and so the read buffer's size.
const MAX_HEADER: usize = 8 * 1024;

/// How long a closing connection keeps draining what the client sends.
const LINGER: Duration = Duration::from_secs(1);

/// How long the accept loop rests after an error such as `EMFILE`.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

fn main() {
    let options = server_cli::ServerOptions::from_args(
        NAME,
        "examples/http_hello.rs on tokio current_thread.",
        server_cli::Flags::default(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .unwrap_or_else(|error| server_cli::die(NAME, "runtime", error));
    runtime.block_on(async {
        let listener = TcpListener::bind(options.addr)
            .await
            .unwrap_or_else(|error| server_cli::die(NAME, "bind", error));
        let local = listener
            .local_addr()
            .unwrap_or_else(|error| server_cli::die(NAME, "local_addr", error));
        server_cli::announce(local);
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    eprintln!("accept failed: {e}; retrying in {ACCEPT_BACKOFF:?}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            };
            tokio::spawn(async move {
                if let Err(e) = connection(stream).await {
                    eprintln!("{peer}: {e}");
                }
            });
        }
    });
}

/// Serves one keep-alive connection.
async fn connection(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; MAX_HEADER];
    let mut responses = Vec::with_capacity(16 * HELLO.len());
    let mut filled = 0;
    loop {
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            return Ok(());
        }
        // Only the new bytes (and the three before them, which may start
        // a terminator) can hold the end of the pending request.
        let mut scan_from = filled.saturating_sub(3);
        filled += n;

        let mut consumed = 0;
        let mut close = false;
        while let Some(end) = header_end(&buf[scan_from..filled]) {
            let end = scan_from + end;
            close = wants_close(&buf[consumed..end]);
            responses.extend_from_slice(if close { HELLO_AND_CLOSE } else { HELLO });
            consumed = end;
            scan_from = end;
            if close {
                break;
            }
        }
        if !responses.is_empty() {
            stream.write_all(&responses).await?;
            responses.clear();
        }
        if close {
            return linger_close(stream, &mut buf).await;
        }

        buf.copy_within(consumed..filled, 0);
        filled -= consumed;
        if filled == buf.len() {
            stream.write_all(TOO_LARGE).await?;
            return linger_close(stream, &mut buf).await;
        }
    }
}

/// Where the first request header in `buf` ends (just past its blank
/// line), if one is complete.
fn header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
}

/// Whether the client wants the connection closed after this request.
fn wants_close(header: &[u8]) -> bool {
    let mut lines = header.split(|&b| b == b'\n');
    let request_line = lines.next().unwrap_or_default().trim_ascii_end();
    if request_line.ends_with(b"HTTP/1.0") {
        return true;
    }
    lines.any(|line| {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return false;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        name.eq_ignore_ascii_case(b"connection")
            && value
                .split(|&b| b == b',')
                .any(|token| token.trim_ascii().eq_ignore_ascii_case(b"close"))
    })
}

/// Closes gracefully: send FIN, then drain what the client still sends
/// (for at most `LINGER`) before the socket is dropped.
async fn linger_close(mut stream: TcpStream, buf: &mut [u8]) -> io::Result<()> {
    stream.shutdown().await?;
    let drain = async {
        while stream.read(buf).await? > 0 {}
        io::Result::Ok(())
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
    Ok(())
}
