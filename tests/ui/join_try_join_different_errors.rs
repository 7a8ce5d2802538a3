// try_join!'s futures share one error type.
async fn run() {
    let _ = corium::try_join!(
        std::future::ready(Ok::<u32, String>(1)),
        std::future::ready(Ok::<u32, std::io::Error>(2)),
    );
}

fn main() {
    let _ = run();
}
