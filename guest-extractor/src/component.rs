//! The WebAssembly component's exports: the WIT world `riptide:extractor/extractor`
//! implemented over the library. Conversions between the bindgen types and the library's
//! own types are spelled out here, field by field, so the contract and the library can
//! evolve separately.

/// The guest bindings of `wit/extractor.wit`.
mod wit {
    wit_bindgen::generate!({
        path: "../wit",
        world: "extractor",
    });
}

struct Extractor;

wit::export!(Extractor with_types_in wit);

impl wit::Guest for Extractor {
    fn extract(
        html: String,
        url: String,
        mode: wit::ExtractionMode,
    ) -> Result<wit::ExtractedContent, wit::ExtractionError> {
        crate::extract(&html, &url, &mode_from_wit(mode))
            .map(content_to_wit)
            .map_err(error_to_wit)
    }

    fn extract_with_stats(
        html: String,
        url: String,
        mode: wit::ExtractionMode,
    ) -> Result<(wit::ExtractedContent, wit::ExtractionStats), wit::ExtractionError> {
        crate::extract_with_stats(&html, &url, &mode_from_wit(mode), &crate::Limits::default())
            .map(|(doc, stats)| (content_to_wit(doc), stats_to_wit(stats)))
            .map_err(error_to_wit)
    }

    fn extract_for_crawl(
        html: String,
        url: String,
        mode: wit::ExtractionMode,
    ) -> Result<(wit::ExtractedContent, wit::ExtractionStats, wit::PageLinks), wit::ExtractionError>
    {
        crate::extract_for_crawl(&html, &url, &mode_from_wit(mode), &crate::Limits::default())
            .map(|(doc, stats, links)| {
                (
                    content_to_wit(doc),
                    stats_to_wit(stats),
                    wit::PageLinks {
                        follow: links.follow,
                        canonical: links.canonical,
                        nofollow: links.nofollow,
                        noindex: links.noindex,
                    },
                )
            })
            .map_err(error_to_wit)
    }

    fn validate_html(html: String) -> wit::ValidationReport {
        let report = crate::validate_html(&html);
        wit::ValidationReport {
            valid: report.valid,
            problems: report.problems,
            element_count: report.element_count,
            max_depth: report.max_depth,
        }
    }

    fn health_check() -> bool {
        crate::health_check()
    }

    fn get_info() -> wit::ExtractorInfo {
        wit::ExtractorInfo {
            name: crate::NAME.to_string(),
            version: crate::VERSION.to_string(),
            modes: <Self as wit::Guest>::get_modes(),
            max_input_bytes: crate::DEFAULT_MAX_INPUT_BYTES as u64,
        }
    }

    fn get_modes() -> Vec<String> {
        crate::MODES.iter().map(|m| m.to_string()).collect()
    }
}

/// Wizer's entry point (`ops/preinit`, run by `ops/wasm-ld-opt.sh` on the linked module):
/// extracts a small article once before the memory is snapshotted into the component, so
/// every instance starts with what the extractor builds on first use already built.
/// The export is gone from the snapshot.
#[export_name = "wizer-initialize"]
extern "C" fn pre_initialize() {
    let warmed = crate::extract_for_crawl(
        include_str!("warm_up.html"),
        "https://warm-up.invalid/article",
        &crate::ExtractionMode::Article,
        &crate::Limits::default(),
    );
    assert!(warmed.is_ok(), "the warm-up page must extract");
}

fn mode_from_wit(mode: wit::ExtractionMode) -> crate::ExtractionMode {
    match mode {
        wit::ExtractionMode::Article => crate::ExtractionMode::Article,
        wit::ExtractionMode::Full => crate::ExtractionMode::Full,
        wit::ExtractionMode::Metadata => crate::ExtractionMode::Metadata,
        wit::ExtractionMode::Custom(selectors) => crate::ExtractionMode::Custom(selectors),
    }
}

fn content_to_wit(doc: crate::ExtractedDoc) -> wit::ExtractedContent {
    wit::ExtractedContent {
        url: doc.url,
        title: doc.title,
        byline: doc.byline,
        published_iso: doc.published_iso,
        markdown: doc.markdown,
        text: doc.text,
        links: doc.links,
        media: doc.media,
        language: doc.language,
        reading_time: doc.reading_time,
        quality_score: doc.quality_score,
        word_count: doc.word_count,
        categories: doc.categories,
        site_name: doc.site_name,
        description: doc.description,
    }
}

fn stats_to_wit(stats: crate::ExtractionStats) -> wit::ExtractionStats {
    wit::ExtractionStats {
        input_bytes: stats.input_bytes,
        node_count: stats.node_count,
        max_depth: stats.max_depth,
        flattened_nodes: stats.flattened_nodes,
    }
}

fn error_to_wit(error: crate::ExtractError) -> wit::ExtractionError {
    use crate::ExtractError as E;
    match error {
        E::InvalidHtml(m) => wit::ExtractionError::InvalidHtml(m),
        E::ParseError(m) => wit::ExtractionError::ParseError(m),
        E::ResourceLimit(m) => wit::ExtractionError::ResourceLimit(m),
        E::ExtractorError(m) => wit::ExtractionError::ExtractorError(m),
        E::InternalError(m) => wit::ExtractionError::InternalError(m),
        E::UnsupportedMode(m) => wit::ExtractionError::UnsupportedMode(m),
    }
}
