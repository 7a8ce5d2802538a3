//! Owned halves of a `TcpStream`, for a reader task and a writer task.

use std::net::SocketAddr;

use super::TcpStream;
use crate::stream_api::owned_halves;

owned_halves!(TcpStream, SocketAddr, "TCP");
