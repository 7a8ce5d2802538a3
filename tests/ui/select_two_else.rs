// One `else` at most.
async fn run() -> u32 {
    corium::select! {
        n = std::future::ready(1) => n,
        else => 2,
        else => 3,
    }
}

fn main() {
    let _ = run();
}
