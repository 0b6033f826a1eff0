//! Extraction slots travel with the guest: a job task aborted while its guest runs (as on a
//! lost broker connection) does not free its slot until the guest is done, so a new job
//! cannot start a second guest beside it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use riptide_extractor::ExtractionMode;
use riptide_shared::job::{Job, JobKind};
use riptide_shared::settings::RedisSettings;
use riptide_worker::breaker::{Breaker, BreakerConfig};
use riptide_worker::config::NativeConfig;
use riptide_worker::extraction::Extractor;
use riptide_worker::fetch::{FetchConfig, Fetcher};
use riptide_worker::metrics::Metrics;
use riptide_worker::politeness::{Politeness, PolitenessConfig};
use riptide_worker::runner::Runner;
use riptide_worker::sandbox::Sandbox;
use tokio::sync::Semaphore;

fn page(paragraphs: usize) -> String {
    let mut html = String::from("<html><head><title>Long</title></head><body><article>");
    for n in 0..paragraphs {
        html.push_str(&format!(
            "<p>Paragraph {n} of a long article, with <a href=/l{n}>a link</a> and words to extract.</p>"
        ));
    }
    html.push_str("</article></body></html>");
    html
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_job_keeps_its_slot_until_its_guest_finishes() {
    let metrics = Arc::new(Metrics::new().unwrap());
    let dir = common::temp_dir("slots");
    let mut config = common::config(dir.clone());
    config.max_instances = 1;
    let extractor = Arc::new(Extractor::sandboxed(
        Sandbox::new(config).unwrap(),
        Breaker::new(BreakerConfig::default()),
        NativeConfig::default(),
        metrics.clone(),
    ));
    let runner = Arc::new(Runner {
        worker_id: "slots-test".into(),
        extractor,
        fetcher: Fetcher::new(FetchConfig::default()).unwrap(),
        robots: None,
        // Inline pages are never fetched; the runner still needs the fleet's pace.
        politeness: Politeness::new(
            RedisSettings::default()
                .connect()
                .await
                .expect("Redis on 127.0.0.1:6379 (ops/services.sh starts it)"),
            PolitenessConfig::default(),
            Duration::from_secs(15),
        ),
        slots: Arc::new(Semaphore::new(1)),
    });
    let job = |html: String| {
        Job::new(
            JobKind::Html,
            "https://example.com/",
            Some(html),
            &ExtractionMode::Article,
        )
    };

    // Two pages long enough (tens of milliseconds each) for any overlap to be seen.
    let long = job(page(4_000));
    let first = tokio::spawn({
        let runner = runner.clone();
        let long = long.clone();
        async move { runner.run(&long, &CancellationToken::new()).await }
    });
    while metrics.instances_in_use.get() == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    first.abort();
    let second = tokio::spawn({
        let runner = runner.clone();
        async move { runner.run(&long, &CancellationToken::new()).await }
    });
    let mut peak = 0;
    while !second.is_finished() {
        peak = peak.max(metrics.instances_in_use.get());
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let second = second.await.unwrap();
    assert!(second.is_ok(), "{second:?}");
    assert_eq!(peak, 1, "two guests ran at once with one slot");
    std::fs::remove_dir_all(dir).unwrap();
}
