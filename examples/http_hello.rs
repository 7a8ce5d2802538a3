//! An HTTP/1.1 "Hello, world!" server written straight on the TCP API, for
//! `curl`, browsers and load generators such as `wrk`.
//!
//! It shows a protocol loop over a reused buffer: read what has arrived,
//! answer every complete request in it (a client may pipeline several in
//! one packet) with one write, keep the unfinished tail for the next read.
//! Nothing is allocated per request. Connections are kept alive unless the
//! client asks `Connection: close` (or speaks HTTP/1.0); a header larger
//! than 8 KiB gets `431` and the connection is closed.
//!
//! It is deliberately not a real HTTP parser: every request gets the same
//! response, and request bodies are not read (a request with a body is
//! misread), which is all a hello-world benchmark sends.
//!
//! ```sh
//! cargo run --release --example http_hello
//! curl -v http://127.0.0.1:7080/
//! wrk -t2 -c100 -d10s http://127.0.0.1:7080/
//! ```

use std::io;
use std::net::Shutdown;
use std::process::ExitCode;
use std::time::Duration;

use corium::net::TcpStream;

#[path = "common/cli.rs"]
mod cli;

/// The answer to every request on a kept-alive connection.
const HELLO: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, world!";

/// The answer to a request after which the server closes the connection.
const HELLO_AND_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nHello, world!";

/// The answer to a header that does not fit in `MAX_HEADER`.
const TOO_LARGE: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// The largest request header accepted, and so the read buffer's size: a
/// request that has not ended within it is rejected.
const MAX_HEADER: usize = 8 * 1024;

/// How long a closing connection keeps reading (and discarding) what the
/// client still sends, so that its unread bytes do not make the kernel
/// reset the connection before the client has read our last response.
const LINGER: Duration = Duration::from_secs(1);

/// How long the accept loop rests after an error such as `EMFILE`: the
/// pending connection stays queued, so retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

fn main() -> ExitCode {
    cli::main("http_hello", "127.0.0.1:7080", &[], serve)
}

/// Accepts connections forever, one task each.
async fn serve(options: &cli::Options) -> io::Result<()> {
    let addr = &options.addr;
    let listener = cli::listen(addr).await?;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("accept failed: {e}; retrying in {ACCEPT_BACKOFF:?}");
                corium::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        corium::spawn(async move {
            if let Err(e) = connection(stream).await {
                eprintln!("{peer}: {e}");
            }
        });
    }
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

/// Whether the client wants the connection closed after this request:
/// `Connection: close`, or HTTP/1.0 (whose keep-alive is not offered here).
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
    stream.shutdown(Shutdown::Write)?;
    let drain = async {
        while stream.read(buf).await? > 0 {}
        io::Result::Ok(())
    };
    // A client that neither reads nor closes is simply cut off.
    let _ = corium::time::timeout(LINGER, drain).await;
    Ok(())
}
