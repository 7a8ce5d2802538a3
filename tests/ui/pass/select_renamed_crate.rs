// select!, join! and try_join! name corium through `$crate`, so they work
// under any name the caller gives it, with no other dependency in scope;
// and their expansions hold no `unsafe` of their own.
#![forbid(unsafe_code)]

extern crate corium as rt;

use rt::{join, select, try_join};

fn main() {
    let runtime = rt::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        let picked = select! {
            biased;
            n = std::future::ready(1) => n,
            else => 0,
        };
        let (a, b) = join!(std::future::ready(2), std::future::ready(3));
        let sum: Result<(u32,), ()> = try_join!(std::future::ready(Ok(4)));
        assert_eq!(picked + a + b + sum.unwrap().0, 10);
    });
}
