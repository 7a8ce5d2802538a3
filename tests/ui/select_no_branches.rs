// A select waits on at least one future.
async fn run() {
    corium::select! {}
}

fn main() {
    let _ = run();
}
