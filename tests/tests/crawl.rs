//! Crawls end to end, against real RabbitMQ and Redis, two workers and sites of their own
//! on loopback addresses: the fetched set is exactly the expected one (duplicates, tracking
//! parameters and fragments collapsed, nofollow honoured (link, robots meta and
//! X-Robots-Tag), robots.txt obeyed, a crawler
//! trap cut by depth, off-scope links counted and not followed), every discovered link ends
//! in one counted state, and the crawl completes once with its completion published.

use std::collections::BTreeSet;
use std::time::Duration;

use riptide_dispatcher::crawls::{CrawlRequest, Crawls};
use riptide_e2e::{namespace, worker_config, Answer, InProcessWorker, TestSite};
use riptide_extractor::ExtractionMode;
use riptide_shared::crawl::Scope;
use riptide_shared::frontier::CrawlStatus;
use riptide_shared::settings::RedisSettings;

fn page(title: &str, links: &[&str]) -> Answer {
    let anchors: String = links
        .iter()
        .map(|href| format!("<li><a href=\"{href}\">{href}</a></li>"))
        .collect();
    Answer::html(format!(
        "<html><head><title>{title}</title></head><body><nav><ul>{anchors}</ul></nav><article><p>The {title} page, with a few words of text for the extractor.</p></article></body></html>"
    ))
}

/// Starts a crawl of the host of `seed`.
async fn crawl_from(crawls: &Crawls, seed: String, max_depth: u32) -> String {
    crawls
        .start(CrawlRequest {
            seeds: vec![seed],
            max_depth,
            max_pages: 10_000,
            scope: Scope::Host,
            allow: Vec::new(),
            deny: Vec::new(),
            mode: ExtractionMode::Article,
        })
        .await
        .unwrap()
        .id
}

async fn wait_for_end(crawls: &Crawls, id: &str) -> CrawlStatus {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let status = crawls.status(id).await.unwrap().expect("the crawl exists");
        if status.state != "running" {
            return status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the crawl never ended: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_fetches_exactly_its_pages_and_accounts_for_every_link() {
    let ns = namespace("crawl");
    let elsewhere = TestSite::start([127, 0, 0, 11], vec![("/x", page("Elsewhere", &[]))]).await;
    let off_scope = elsewhere.url("/x");
    let root_links = [
        "/a",
        "/b",
        "/a?utm_source=newsletter",
        "/b#comments",
        "/cal/1",
        "/private/secret",
        "/header-nofollow",
        off_scope.as_str(),
    ];
    let site = TestSite::start(
        [127, 0, 0, 10],
        vec![
            (
                "/robots.txt",
                Answer::text(200, "User-agent: *\nDisallow: /private\n"),
            ),
            ("/", {
                let mut root = page("Home", &root_links);
                root.body = root.body.replace(
                    "</ul>",
                    "<li><a rel=nofollow href=\"/never\">no</a></li></ul>",
                );
                root
            }),
            ("/a", page("A", &["/c", "/", "/a/deep"])),
            ("/b", {
                let mut b = page("B", &["/never-either"]);
                b.body = b
                    .body
                    .replace("<head>", "<head><meta name=robots content=nofollow>");
                b
            }),
            ("/c", page("C", &["/d"])),
            (
                "/header-nofollow",
                page("Header", &["/never-three"]).header("x-robots-tag", "noarchive, nofollow"),
            ),
            ("/never-three", page("Never three", &[])),
            ("/a/deep", page("Deep", &[])),
            ("/cal/1", page("Calendar 1", &["/cal/2"])),
            ("/cal/2", page("Calendar 2", &["/cal/3"])),
            ("/cal/3", page("Calendar 3", &["/cal/4"])),
            ("/never", page("Never", &[])),
            ("/never-either", page("Never either", &[])),
            ("/private/secret", page("Secret", &[])),
            ("/d", page("D", &[])),
        ],
    )
    .await;
    let a = InProcessWorker::start(worker_config(&ns));
    let mut second = worker_config(&ns);
    second.worker.id = format!("{ns}-second");
    let b = InProcessWorker::start(second);

    let crawls = Crawls::connect(&RedisSettings::default(), &ns)
        .await
        .unwrap();
    let id = crawl_from(&crawls, site.url("/"), 2).await;
    let status = wait_for_end(&crawls, &id).await;

    let fetched: BTreeSet<String> = site.requests().into_iter().map(|(p, _)| p).collect();
    let expected: BTreeSet<String> = [
        "/robots.txt",
        "/",
        "/a",
        "/b",
        "/cal/1",
        "/c",
        "/a/deep",
        "/cal/2",
        "/header-nofollow",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    assert_eq!(fetched, expected, "{status:?}");
    assert_eq!(site.requests().len(), expected.len(), "each page once");
    assert!(
        elsewhere.requests().is_empty(),
        "an off-scope link was followed"
    );

    assert_eq!(status.state, "completed");
    assert_eq!(status.pending, 0);
    let count = |reason: &str| status.terminal.get(reason).copied().unwrap_or_default();
    assert_eq!(count("done"), 8, "{status:?}");
    assert_eq!(count("robots-disallowed"), 1, "{status:?}");
    assert_eq!(count("out-of-scope"), 1, "{status:?}");
    assert_eq!(count("too-deep"), 2, "{status:?}");
    assert!(count("duplicate") >= 3, "{status:?}");
    let total: u64 = status
        .terminal
        .iter()
        .filter(|(reason, _)| !reason.starts_with("dead:"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(
        total, status.discovered,
        "every discovered link ends once: {status:?}"
    );
    assert_eq!(crawls.pages(&id, 0, 100).await.unwrap().len(), 8);

    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawls_through_the_http_api() {
    let ns = namespace("crawl-api");
    let site = TestSite::start(
        [127, 0, 0, 12],
        vec![("/", page("Home", &["/one"])), ("/one", page("One", &[]))],
    )
    .await;
    let worker = InProcessWorker::start(worker_config(&ns));
    let crawls = std::sync::Arc::new(
        Crawls::connect(&RedisSettings::default(), &ns)
            .await
            .unwrap(),
    );
    let dispatcher = riptide_e2e::Dispatcher::connect(&ns).await;
    let api = riptide_dispatcher::api::router(
        std::sync::Arc::new(dispatcher.broker),
        std::sync::Arc::new(dispatcher.jobs),
        crawls.clone(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, api).await });
    let http = reqwest::Client::new();

    let bad = http
        .post(format!("http://{addr}/v1/crawls"))
        .json(&serde_json::json!({ "seeds": ["ftp://nowhere/"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let started: serde_json::Value = http
        .post(format!("http://{addr}/v1/crawls"))
        .json(&serde_json::json!({ "seeds": [site.url("/")], "max_depth": 1 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = started["id"].as_str().unwrap().to_string();
    let status = wait_for_end(&crawls, &id).await;
    assert_eq!(status.state, "completed");
    let view: serde_json::Value = http
        .get(format!("http://{addr}/v1/crawls/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["terminal"]["done"], 2, "{view}");
    let pages: serde_json::Value = http
        .get(format!("http://{addr}/v1/crawls/{id}/pages?limit=10"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pages = pages["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 2);
    assert!(pages
        .iter()
        .all(|p| p["status"] == "done" && p["result"].is_object()));
    let cancel = http
        .delete(format!("http://{addr}/v1/crawls/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 409, "a completed crawl is not cancelled");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_crawl_within_two_seconds() {
    let ns = namespace("crawl-cancel");
    // An endless calendar: every day links to the next, with two extra pages each.
    let days: Vec<(String, Answer)> = (0..400)
        .map(|n| {
            (
                format!("/day/{n}"),
                page(
                    &format!("Day {n}"),
                    &[
                        &format!("/day/{}", n + 1),
                        &format!("/day/{n}/am"),
                        &format!("/day/{n}/pm"),
                    ],
                ),
            )
        })
        .collect();
    let site = TestSite::start(
        [127, 0, 0, 13],
        days.iter().map(|(p, a)| (p.as_str(), a.clone())).collect(),
    )
    .await;
    let mut config = worker_config(&ns);
    config.politeness.delay_ms = 100;
    let worker = InProcessWorker::start(config);
    let crawls = Crawls::connect(&RedisSettings::default(), &ns)
        .await
        .unwrap();
    let id = crawl_from(&crawls, site.url("/day/0"), 1_000).await;
    while site.requests().len() < 8 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(crawls.cancel(&id).await.unwrap());
    let cancelled_at = std::time::Instant::now();
    // Its queued pages drain as they come up, each acked as `cancelled` without a fetch.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let status = loop {
        let status = crawls.status(&id).await.unwrap().unwrap();
        if status.pending == 0 {
            break status;
        }
        assert!(tokio::time::Instant::now() < deadline, "{status:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let last = site.requests().into_iter().map(|(_, at)| at).max().unwrap();
    assert!(
        last < cancelled_at + Duration::from_secs(2),
        "a request {:?} after the cancel",
        last - cancelled_at
    );
    assert_eq!(status.state, "cancelled");
    assert_eq!(status.pending, 0);
    assert!(
        status
            .terminal
            .get("cancelled")
            .copied()
            .unwrap_or_default()
            > 0
    );
    let total: u64 = status
        .terminal
        .iter()
        .filter(|(reason, _)| !reason.starts_with("dead:"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(total, status.discovered, "{status:?}");
    worker.stop().await;
}

#[tokio::test]
async fn dedup_costs_at_most_64_bytes_per_url_at_100_000_urls() {
    use riptide_shared::crawl::CrawlSpec;
    use riptide_shared::frontier::{self, Discovered};
    let ns = namespace("dedup-bytes");
    let redis = RedisSettings::default().connect().await.unwrap();
    let spec = CrawlSpec {
        id: ns.clone(),
        seeds: vec!["https://example.com/".into()],
        max_depth: 2,
        // Nothing is admitted: only the dedup set grows.
        max_pages: 0,
        scope: Scope::Host,
        allow: Vec::new(),
        deny: Vec::new(),
        mode: "article".into(),
        selectors: Vec::new(),
        created_at_ms: 0,
    };
    frontier::create(&redis, &spec).await.unwrap();
    const URLS: usize = 100_000;
    for batch in 0..URLS / 1_000 {
        let links = (0..1_000)
            .map(|n| {
                let url = riptide_shared::crawl::canonicalize(&format!(
                    "https://site{}.example/section/{}/page-{}?id={}",
                    n % 20,
                    batch,
                    n,
                    batch * 1_000 + n
                ))
                .unwrap();
                Discovered::Candidate {
                    url,
                    job: Vec::new(),
                }
            })
            .collect();
        frontier::discover(&redis, &spec, &ns, links).await.unwrap();
    }
    let mut conn = redis.clone();
    let bytes: u64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(riptide_shared::keys::crawl_seen(&ns))
        .arg("SAMPLES")
        .arg(0)
        .query_async(&mut conn)
        .await
        .unwrap();
    let status = crawls_status(&redis, &ns).await;
    assert_eq!(status.discovered, URLS as u64);
    assert_eq!(status.terminal["over-budget"], URLS as u64, "{status:?}");
    let per_url = bytes as f64 / URLS as f64;
    eprintln!("dedup: {per_url:.1} bytes per URL at {URLS} URLs");
    assert!(per_url <= 64.0, "{per_url:.1} bytes per URL");
    redis::cmd("DEL")
        .arg(riptide_shared::keys::crawl_seen(&ns))
        .arg(riptide_shared::keys::crawl(&ns))
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
}

async fn crawls_status(
    redis: &redis::aio::ConnectionManager,
    id: &str,
) -> riptide_shared::frontier::CrawlStatus {
    riptide_shared::frontier::status(redis, id)
        .await
        .unwrap()
        .unwrap()
}
