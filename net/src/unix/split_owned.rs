//! Owned halves of a `UnixStream`, for a reader task and a writer task.

use super::{SocketAddr, UnixStream};
use crate::stream_api::owned_halves;

owned_halves!(UnixStream, SocketAddr, "Unix");
