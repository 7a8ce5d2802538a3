// Each branch waits on a future (or anything `IntoFuture`).
async fn run() -> u32 {
    corium::select! {
        n = 42u32 => n,
    }
}

fn main() {
    let _ = run();
}
