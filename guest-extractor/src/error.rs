//! The extractor's typed errors. Each variant mirrors one case of the WIT
//! `extraction-error`, and each message tells a person what to do about it.

/// Why an extraction failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "message", rename_all = "kebab-case")]
pub enum ExtractError {
    #[error("invalid HTML: {0}")]
    InvalidHtml(String),
    #[error("parse error: {0}")]
    ParseError(String),
    #[error("resource limit: {0}")]
    ResourceLimit(String),
    #[error("extractor error: {0}")]
    ExtractorError(String),
    #[error("internal error: {0}")]
    InternalError(String),
    #[error("unsupported mode: {0}")]
    UnsupportedMode(String),
}

impl ExtractError {
    /// The WIT case name, used as `kind` in JSON output and as a metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidHtml(_) => "invalid-html",
            Self::ParseError(_) => "parse-error",
            Self::ResourceLimit(_) => "resource-limit",
            Self::ExtractorError(_) => "extractor-error",
            Self::InternalError(_) => "internal-error",
            Self::UnsupportedMode(_) => "unsupported-mode",
        }
    }

    /// The message without the kind prefix.
    pub fn message(&self) -> &str {
        match self {
            Self::InvalidHtml(m)
            | Self::ParseError(m)
            | Self::ResourceLimit(m)
            | Self::ExtractorError(m)
            | Self::InternalError(m)
            | Self::UnsupportedMode(m) => m,
        }
    }
}
