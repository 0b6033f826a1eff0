//! Definitions every RipTide binary, producer and dashboard must agree on, kept in one
//! place: the job wire format, the queue topology, the Redis key layout, metric names and
//! connection settings.

pub mod charset;
pub mod crawl;
pub mod deferred;
pub mod frontier;
pub mod guard;
pub mod job;
pub mod keys;
pub mod metrics;
pub mod outcome;
pub mod publish;
pub mod settings;
pub mod state;
pub mod topology;
