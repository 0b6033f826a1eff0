//! The dev corpus of real pages (../shared/corpus/dev beside the repository), for tests.
#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;

pub struct Page {
    pub id: String,
    pub url: String,
    pub html: String,
}

pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/dev")
}

pub fn page(id: &str) -> Page {
    all()
        .into_iter()
        .find(|p| p.id.starts_with(id))
        .expect("page in the dev corpus")
}

pub fn all() -> Vec<Page> {
    let truth: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir().join("ground-truth.json"))
            .expect("dev corpus ground truth (../shared/corpus/dev)"),
    )
    .expect("ground truth is JSON");
    let mut pages: Vec<Page> = truth
        .as_object()
        .expect("ground truth is an object")
        .iter()
        .map(|(id, entry)| {
            let file = std::fs::File::open(dir().join("html").join(format!("{id}.html.gz")))
                .expect("page file");
            let mut bytes = Vec::new();
            flate2::read::GzDecoder::new(file)
                .read_to_end(&mut bytes)
                .expect("gzip");
            Page {
                id: id.clone(),
                url: entry["url"].as_str().unwrap_or_default().to_string(),
                html: String::from_utf8_lossy(&bytes).into_owned(),
            }
        })
        .collect();
    pages.sort_by(|a, b| a.id.cmp(&b.id));
    pages
}

/// The page of median size, which the benchmarks time.
pub fn median() -> Page {
    let mut pages = all();
    pages.sort_by_key(|p| p.html.len());
    let middle = pages.len() / 2;
    pages.swap_remove(middle)
}
