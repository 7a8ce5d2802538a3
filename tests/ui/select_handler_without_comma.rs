// A handler that is not a block is followed by `,` unless it is the last.
async fn run() -> u32 {
    corium::select! {
        n = std::future::ready(1) => n
        m = std::future::ready(2) => m,
    }
}

fn main() {
    let _ = run();
}
