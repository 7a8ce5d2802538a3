//! `#[corium::test]` and `#[corium::main]` as users write them.
use std::time::Duration;

#[corium::test]
async fn a_test_runs_on_the_current_thread_flavor() {
    let flavor = corium::runtime::Handle::current().runtime_flavor();
    assert_eq!(flavor, corium::runtime::RuntimeFlavor::CurrentThread);
}

#[corium::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_can_ask_for_workers() {
    let handle = corium::runtime::Handle::current();
    assert_eq!(
        handle.runtime_flavor(),
        corium::runtime::RuntimeFlavor::MultiThread
    );
    assert_eq!(handle.metrics().num_workers(), 2);
}

#[corium::test(start_paused = true)]
async fn a_paused_test_sleeps_without_waiting() {
    let start = std::time::Instant::now();
    corium::time::sleep(Duration::from_secs(3600)).await;
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[corium::test]
async fn question_mark_converts_into_the_return_type() -> Result<(), Box<dyn std::error::Error>> {
    let n: u32 = "42".parse()?;
    assert_eq!(n, 42);
    Ok(())
}

#[corium::test]
#[should_panic(expected = "boom")]
async fn other_attributes_are_kept() {
    panic!("boom");
}

#[test]
fn a_test_ignores_the_flavor_in_the_environment() {
    // The variable is read when a runtime is built, so set it in a child
    // process rather than in this one, where other tests build runtimes.
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new(exe)
        .args(["--exact", "a_test_runs_on_the_current_thread_flavor"])
        .env("CORIUM_FLAVOR", "multi_thread")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("1 passed"), "{stdout}");
}
