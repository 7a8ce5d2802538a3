// A branch is `pattern = future => handler`.
async fn run() -> u32 {
    corium::select! {
        n std::future::ready(1) => n,
    }
}

fn main() {
    let _ = run();
}
