//! The RipTide worker: runs the extractor component in a Wasmtime sandbox, falls back to
//! the native extractor when the sandbox itself is failing, and reports metrics.

pub mod breaker;
pub mod config;
pub mod consume;
pub mod extraction;
pub mod fetch;
pub mod health;
pub mod metrics;
pub mod sandbox;
pub mod shutdown;
pub mod store;
