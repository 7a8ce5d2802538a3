//! Compile-time checks of the auto traits of the public types: losing
//! `Send`, `Sync` or `Unpin` fails this test, not a user's build.

use std::future::Pending;

use corium::runtime::{Handle, Runtime};
use corium::task::{AbortHandle, JoinError, JoinHandle};
use corium::time::{Interval, Sleep, Timeout};

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}
fn assert_unpin<T: Unpin>() {}
fn assert_clone<T: Clone>() {}

#[test]
fn public_types_have_the_auto_traits_users_rely_on() {
    assert_send::<Runtime>();
    assert_sync::<Runtime>();

    assert_send::<Handle>();
    assert_sync::<Handle>();
    assert_clone::<Handle>();

    assert_send::<JoinHandle<u32>>();
    assert_sync::<JoinHandle<u32>>();
    assert_unpin::<JoinHandle<u32>>();

    assert_send::<JoinError>();
    assert_sync::<JoinError>();

    assert_send::<AbortHandle>();
    assert_sync::<AbortHandle>();

    assert_send::<Sleep>();
    assert_sync::<Sleep>();

    assert_send::<Timeout<Pending<()>>>();
    assert_send::<Timeout<Sleep>>();

    assert_send::<Interval>();
}

#[test]
fn errors_are_std_errors_usable_with_question_mark() {
    fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<JoinError>();
    assert_error::<corium::time::Elapsed>();
    assert_error::<corium::runtime::TryCurrentError>();
    assert_error::<corium::task::AccessError>();
}
