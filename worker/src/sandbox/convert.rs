//! The explicit type boundary: the bindgen types of the WIT contract never leave the
//! sandbox module; the rest of the worker sees only the extractor library's own types.

use riptide_extractor::{ExtractError, ExtractedDoc, ExtractionMode, ExtractionStats, PageLinks};

use super::bindings as wit;

pub fn mode_to_wit(mode: &ExtractionMode) -> wit::ExtractionMode {
    match mode {
        ExtractionMode::Article => wit::ExtractionMode::Article,
        ExtractionMode::Full => wit::ExtractionMode::Full,
        ExtractionMode::Metadata => wit::ExtractionMode::Metadata,
        ExtractionMode::Custom(selectors) => wit::ExtractionMode::Custom(selectors.clone()),
    }
}

pub fn content_from_wit(content: wit::ExtractedContent) -> ExtractedDoc {
    ExtractedDoc {
        url: content.url,
        title: content.title,
        byline: content.byline,
        published_iso: content.published_iso,
        markdown: content.markdown,
        text: content.text,
        links: content.links,
        media: content.media,
        language: content.language,
        reading_time: content.reading_time,
        quality_score: content.quality_score,
        word_count: content.word_count,
        categories: content.categories,
        site_name: content.site_name,
        description: content.description,
    }
}

pub fn stats_from_wit(stats: wit::ExtractionStats) -> ExtractionStats {
    ExtractionStats {
        input_bytes: stats.input_bytes,
        node_count: stats.node_count,
        max_depth: stats.max_depth,
        flattened_nodes: stats.flattened_nodes,
    }
}

pub fn links_from_wit(links: wit::PageLinks) -> PageLinks {
    PageLinks {
        follow: links.follow,
        canonical: links.canonical,
        nofollow: links.nofollow,
        noindex: links.noindex,
    }
}

pub fn error_from_wit(error: wit::ExtractionError) -> ExtractError {
    match error {
        wit::ExtractionError::InvalidHtml(m) => ExtractError::InvalidHtml(m),
        wit::ExtractionError::ParseError(m) => ExtractError::ParseError(m),
        wit::ExtractionError::ResourceLimit(m) => ExtractError::ResourceLimit(m),
        wit::ExtractionError::ExtractorError(m) => ExtractError::ExtractorError(m),
        wit::ExtractionError::InternalError(m) => ExtractError::InternalError(m),
        wit::ExtractionError::UnsupportedMode(m) => ExtractError::UnsupportedMode(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_content_field_crosses_the_boundary() {
        let content = wit::ExtractedContent {
            url: "https://e.com/".into(),
            title: Some("t".into()),
            byline: Some("b".into()),
            published_iso: Some("2024-01-01".into()),
            markdown: "# m".into(),
            text: "m".into(),
            links: vec!["https://e.com/l".into()],
            media: vec!["https://e.com/i.png".into()],
            language: Some("en".into()),
            reading_time: 3,
            quality_score: 77,
            word_count: 512,
            categories: vec!["c".into()],
            site_name: Some("s".into()),
            description: Some("d".into()),
        };
        let doc = content_from_wit(content);
        assert_eq!(
            doc,
            ExtractedDoc {
                url: "https://e.com/".into(),
                title: Some("t".into()),
                byline: Some("b".into()),
                published_iso: Some("2024-01-01".into()),
                markdown: "# m".into(),
                text: "m".into(),
                links: vec!["https://e.com/l".into()],
                media: vec!["https://e.com/i.png".into()],
                language: Some("en".into()),
                reading_time: 3,
                quality_score: 77,
                word_count: 512,
                categories: vec!["c".into()],
                site_name: Some("s".into()),
                description: Some("d".into()),
            }
        );
    }

    #[test]
    fn modes_and_errors_cross_the_boundary() {
        let custom = ExtractionMode::Custom(vec!["a".into(), "b c".into()]);
        assert!(
            matches!(mode_to_wit(&custom), wit::ExtractionMode::Custom(s) if s == ["a", "b c"])
        );
        assert!(matches!(
            mode_to_wit(&ExtractionMode::Article),
            wit::ExtractionMode::Article
        ));
        assert!(matches!(
            mode_to_wit(&ExtractionMode::Full),
            wit::ExtractionMode::Full
        ));
        assert!(matches!(
            mode_to_wit(&ExtractionMode::Metadata),
            wit::ExtractionMode::Metadata
        ));
        let cases = [
            (
                wit::ExtractionError::InvalidHtml("m".into()),
                "invalid-html",
            ),
            (wit::ExtractionError::ParseError("m".into()), "parse-error"),
            (
                wit::ExtractionError::ResourceLimit("m".into()),
                "resource-limit",
            ),
            (
                wit::ExtractionError::ExtractorError("m".into()),
                "extractor-error",
            ),
            (
                wit::ExtractionError::InternalError("m".into()),
                "internal-error",
            ),
            (
                wit::ExtractionError::UnsupportedMode("m".into()),
                "unsupported-mode",
            ),
        ];
        for (wit_error, kind) in cases {
            let error = error_from_wit(wit_error);
            assert_eq!((error.kind(), error.message()), (kind, "m"));
        }
        let stats = stats_from_wit(wit::ExtractionStats {
            input_bytes: 1,
            node_count: 2,
            max_depth: 3,
            flattened_nodes: 4,
        });
        assert_eq!(
            stats,
            ExtractionStats {
                input_bytes: 1,
                node_count: 2,
                max_depth: 3,
                flattened_nodes: 4
            }
        );
    }
}
