// join! waits on futures (or anything `IntoFuture`).
async fn run() {
    let _ = corium::join!(std::future::ready(1), 2u32);
}

fn main() {
    let _ = run();
}
