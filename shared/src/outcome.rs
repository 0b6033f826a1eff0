//! The typed values both sides of the queue read and write: why a job was dead-lettered
//! (the `x-riptide-reason` header and the `reason` label of `riptide_dead_letters_total`)
//! and the circuit breaker's state (the `riptide_breaker_state` gauge and the workers'
//! heartbeats). Defined once here so that a worker, the dispatcher and a dashboard cannot
//! spell them differently.

use riptide_extractor::ExtractError;

/// Why a job ended in the dead-letter queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeadReason {
    /// The message is not a job this worker can read (not MessagePack, unknown version).
    Undecodable,
    /// The job decodes but cannot run (an unknown mode, an html job without html).
    InvalidJob,
    /// The page could not be fetched for good (4xx, refused address, not HTML, too big).
    Fetch,
    /// Transient failures until `broker.max_attempts` ran out.
    MaxAttempts,
    /// The site's robots.txt disallows the URL for our user agent.
    RobotsDisallowed,
    /// The site's robots.txt asks for a Crawl-delay over `politeness.max_crawl_delay_secs`.
    CrawlDelayTooLong,
    /// The broker dead-lettered the job itself: it was redelivered more than the queue's
    /// delivery limit (a page that keeps killing workers).
    DeliveryLimit,
    /// The extractor refused the page; the variant is its WIT error case.
    InvalidHtml,
    ParseError,
    /// The page exhausted its fuel, deadline or memory in the sandbox.
    ResourceLimit,
    ExtractorError,
    /// The extractor failed internally (in the sandbox: the guest trapped on this page).
    InternalError,
    UnsupportedMode,
}

impl DeadReason {
    pub const ALL: [DeadReason; 13] = [
        Self::Undecodable,
        Self::InvalidJob,
        Self::Fetch,
        Self::MaxAttempts,
        Self::RobotsDisallowed,
        Self::CrawlDelayTooLong,
        Self::DeliveryLimit,
        Self::InvalidHtml,
        Self::ParseError,
        Self::ResourceLimit,
        Self::ExtractorError,
        Self::InternalError,
        Self::UnsupportedMode,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Undecodable => "undecodable",
            Self::InvalidJob => "invalid-job",
            Self::Fetch => "fetch",
            Self::MaxAttempts => "max-attempts",
            Self::RobotsDisallowed => "robots-disallowed",
            Self::CrawlDelayTooLong => "crawl-delay-too-long",
            Self::DeliveryLimit => "delivery-limit",
            Self::InvalidHtml => "invalid-html",
            Self::ParseError => "parse-error",
            Self::ResourceLimit => "resource-limit",
            Self::ExtractorError => "extractor-error",
            Self::InternalError => "internal-error",
            Self::UnsupportedMode => "unsupported-mode",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The reason for an extractor's refusal of a page.
    pub fn of_extraction(error: &ExtractError) -> Self {
        match error {
            ExtractError::InvalidHtml(_) => Self::InvalidHtml,
            ExtractError::ParseError(_) => Self::ParseError,
            ExtractError::ResourceLimit(_) => Self::ResourceLimit,
            ExtractError::ExtractorError(_) => Self::ExtractorError,
            ExtractError::InternalError(_) => Self::InternalError,
            ExtractError::UnsupportedMode(_) => Self::UnsupportedMode,
        }
    }
}

impl std::fmt::Display for DeadReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The circuit breaker's state; the discriminant is the `riptide_breaker_state` gauge's
/// value and the heartbeat's `breaker_state` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half-open",
        }
    }

    pub fn from_gauge(value: i64) -> Option<Self> {
        match value {
            0 => Some(Self::Closed),
            1 => Some(Self::Open),
            2 => Some(Self::HalfOpen),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_and_cover_every_extraction_error() {
        for reason in DeadReason::ALL {
            assert_eq!(DeadReason::parse(reason.as_str()), Some(reason));
        }
        for error in [
            ExtractError::InvalidHtml(String::new()),
            ExtractError::ParseError(String::new()),
            ExtractError::ResourceLimit(String::new()),
            ExtractError::ExtractorError(String::new()),
            ExtractError::InternalError(String::new()),
            ExtractError::UnsupportedMode(String::new()),
        ] {
            assert_eq!(DeadReason::of_extraction(&error).as_str(), error.kind());
        }
        for state in [
            BreakerState::Closed,
            BreakerState::Open,
            BreakerState::HalfOpen,
        ] {
            assert_eq!(BreakerState::from_gauge(state as i64), Some(state));
        }
    }
}
