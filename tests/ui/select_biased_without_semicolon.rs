// `biased` is followed by `;`.
async fn run() -> u32 {
    corium::select! {
        biased
        n = std::future::ready(1) => n,
    }
}

fn main() {
    let _ = run();
}
