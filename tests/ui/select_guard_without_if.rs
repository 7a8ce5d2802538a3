// A guard is written `, if condition`.
async fn run(enabled: bool) -> u32 {
    corium::select! {
        n = std::future::ready(1), enabled => n,
    }
}

fn main() {
    let _ = run(true);
}
