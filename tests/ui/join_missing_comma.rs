// join!'s futures are separated by commas.
async fn run() {
    let _ = corium::join!(std::future::ready(1) std::future::ready(2));
}

fn main() {
    let _ = run();
}
