#[corium::main(flavor = "threaded")]
async fn main() {}
