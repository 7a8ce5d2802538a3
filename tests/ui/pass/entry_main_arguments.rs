use corium::runtime::{Handle, RuntimeFlavor};

#[corium::main(flavor = "multi_thread", worker_threads = 3)]
async fn main() {
    let handle = Handle::current();
    assert_eq!(handle.runtime_flavor(), RuntimeFlavor::MultiThread);
    assert_eq!(handle.metrics().num_workers(), 3);
    let answer = corium::spawn(async { 6 * 7 }).await.unwrap();
    assert_eq!(answer, 42);
}
