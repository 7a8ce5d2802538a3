// try_join!'s futures return `Result`s.
async fn run() {
    let _ = corium::try_join!(std::future::ready(Ok::<u32, ()>(1)), std::future::ready(2u32));
}

fn main() {
    let _ = run();
}
