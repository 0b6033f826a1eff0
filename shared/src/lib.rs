//! Definitions every RipTide binary and dashboard must agree on, kept in one place.

pub mod metrics;
