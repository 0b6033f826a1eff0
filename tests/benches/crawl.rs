//! The crawl benchmark (`ops/bench-crawl.sh`): 20 local hosts (127.0.0.20 to .39) of 200
//! linked pages each, one crawl seeded on all of them, two workers, a politeness delay of
//! 200 ms. The bound is hosts / delay = 100 pages per second; the figure is pages per
//! second against it, with every host's fetch starts checked against the delay (the
//! violations must be zero). Then the dedup set's bytes per URL at 100,000 URLs.

use std::time::{Duration, Instant};

use riptide_dispatcher::crawls::{CrawlRequest, Crawls};
use riptide_e2e::{namespace, worker_config, Answer, InProcessWorker, TestSite, ARRIVAL_JITTER};
use riptide_shared::settings::RedisSettings;

const HOSTS: u8 = 20;
const PAGES: usize = 200;
const DELAY: Duration = Duration::from_millis(200);

fn page(n: usize) -> Answer {
    let links: String = (1..=5)
        .map(|step| format!("<a href=\"/p{}\">next {step}</a> ", (n + step) % PAGES))
        .collect();
    Answer::html(format!(
        "<html><head><title>Page {n}</title></head><body><nav>{links}</nav><article><p>Page {n} of a benchmark site, with enough words to be an article of sorts.</p></article></body></html>"
    ))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let ns = namespace("bench-crawl");
    let answers: Vec<(String, Answer)> = (0..PAGES).map(|n| (format!("/p{n}"), page(n))).collect();
    let mut sites = Vec::new();
    for host in 0..HOSTS {
        sites.push(
            TestSite::start(
                [127, 0, 0, 20 + host],
                answers
                    .iter()
                    .map(|(p, a)| (p.as_str(), a.clone()))
                    .collect(),
            )
            .await,
        );
    }
    let workers: Vec<InProcessWorker> = ["a", "b"]
        .iter()
        .map(|name| {
            let mut config = worker_config(&ns);
            config.worker.id = format!("{ns}-{name}");
            config.politeness.delay_ms = DELAY.as_millis() as u64;
            InProcessWorker::start(config)
        })
        .collect();
    // Let both workers come up (component load) before the clock starts.
    tokio::time::sleep(Duration::from_secs(5)).await;

    let crawls = Crawls::connect(&RedisSettings::default(), &ns)
        .await
        .unwrap();
    let started = Instant::now();
    let spec = crawls
        .start(CrawlRequest {
            max_depth: 1_000,
            max_pages: 100_000,
            ..CrawlRequest::new(sites.iter().map(|s| s.url("/p0")).collect())
        })
        .await
        .unwrap();
    let status = loop {
        let status = crawls.status(&spec.id).await.unwrap().unwrap();
        if status.state != "running" {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "{status:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let elapsed = started.elapsed().as_secs_f64();
    let done = status.terminal.get("done").copied().unwrap_or_default();
    let violations: usize = sites
        .iter()
        .map(|site| {
            site.gaps()
                .iter()
                .filter(|gap| **gap + ARRIVAL_JITTER < DELAY)
                .count()
        })
        .sum();
    let bound = f64::from(HOSTS) / DELAY.as_secs_f64();
    let rate = done as f64 / elapsed;
    println!(
        "crawl: {done} pages from {HOSTS} hosts in {elapsed:.1} s = {rate:.1} pages/s, {:.0}% of the politeness bound ({bound:.0} pages/s); {violations} politeness violations; max in flight per host {}",
        100.0 * rate / bound,
        sites.iter().map(TestSite::max_in_flight).max().unwrap_or_default()
    );
    assert_eq!(done, (PAGES * HOSTS as usize) as u64, "{status:?}");
    for worker in workers {
        worker.stop().await;
    }
}
