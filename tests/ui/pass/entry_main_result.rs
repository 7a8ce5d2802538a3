// `?` converts into `main`'s error type; no argument means the environment.
#[corium::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u32 = "7".parse()?;
    corium::time::sleep(std::time::Duration::from_millis(1)).await;
    assert_eq!(n, 7);
    Ok(())
}
