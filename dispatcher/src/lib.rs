//! The RipTide dispatcher: submits jobs (with deduplication and publisher confirms) and
//! reads back what the workers stored.

pub mod api;
pub mod batches;
pub mod broker;
pub mod config;
pub mod crawls;
pub mod jobs;
pub mod schedules;
