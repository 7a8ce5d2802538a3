// A test is current-thread unless it says otherwise, so workers need the flavor.
#[corium::test(worker_threads = 2)]
async fn two_workers() {}

fn main() {}
