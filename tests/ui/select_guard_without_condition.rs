// `if` needs a condition.
async fn run() -> u32 {
    corium::select! {
        n = std::future::ready(1), if => n,
    }
}

fn main() {
    let _ = run();
}
