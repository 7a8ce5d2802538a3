fn main() {
    let rt = corium::runtime::Runtime::new().unwrap();
    let out = rt.block_on(async {
        let mut hs = Vec::new();
        for i in 0..10u64 {
            hs.push(corium::spawn(async move {
                corium::time::sleep(std::time::Duration::from_millis(10 * i)).await;
                corium::task::yield_now().await;
                i
            }));
        }
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        let b = corium::task::spawn_blocking(|| 5).await.unwrap();
        let p = corium::spawn(async { panic!("boom") }).await.unwrap_err();
        (sum, b, p.is_panic())
    });
    println!("{out:?}");
}
