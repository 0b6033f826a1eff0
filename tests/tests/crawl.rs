//! Crawls end to end, against real RabbitMQ and Redis, two workers and sites of their own
//! on loopback addresses: the fetched set is exactly the expected one (duplicates, tracking
//! parameters and fragments collapsed, nofollow honoured (link, robots meta and
//! X-Robots-Tag), robots.txt obeyed, a crawler
//! trap cut by depth, off-scope links counted and not followed), every discovered link ends
//! in one counted state, and the crawl completes once with its completion published.

use std::collections::BTreeSet;
use std::time::Duration;

use riptide_dispatcher::crawls::{CrawlRequest, Crawls};
use riptide_e2e::{
    delete_queues, namespace, worker_config, Answer, InProcessWorker, TestSite, ARRIVAL_JITTER,
};
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
            max_depth,
            max_pages: 10_000,
            ..CrawlRequest::new(vec![seed])
        })
        .await
        .unwrap()
        .id
}

async fn serve(ip: u8, pages: &[(String, Answer)]) -> TestSite {
    TestSite::start(
        [127, 0, 0, ip],
        pages.iter().map(|(p, a)| (p.as_str(), a.clone())).collect(),
    )
    .await
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
    delete_queues(&ns).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sitemaps_from_robots_txt_add_the_pages_they_list() {
    let ns = namespace("crawl-sitemaps");
    let urlset = |paths: &[&str]| {
        let urls: String = paths
            .iter()
            .map(|p| format!("<url><loc>{{origin}}{p}</loc><lastmod>2026-11-01</lastmod></url>"))
            .collect();
        Answer::xml(format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>"#
        ))
    };
    let answers = |ip: u8| async move {
        TestSite::start(
            [127, 0, 0, ip],
            vec![
                (
                    "/robots.txt",
                    Answer::text(
                        200,
                        "User-agent: *\nDisallow: /private\nSitemap: {origin}/sitemap-index.xml\n",
                    ),
                ),
                (
                    "/sitemap-index.xml",
                    Answer::xml(
                        r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>{origin}/sitemap-pages.xml</loc></sitemap></sitemapindex>"#,
                    ),
                ),
                (
                    "/sitemap-pages.xml",
                    urlset(&["/orphan-1", "/orphan-2?utm_source=x", "/", "/private/hidden"]),
                ),
                ("/", page("Home", &["/linked"])),
                ("/linked", page("Linked", &[])),
                ("/orphan-1", page("Orphan 1", &["/deeper"])),
                ("/orphan-2", page("Orphan 2", &[])),
                ("/deeper", page("Deeper", &[])),
                ("/private/hidden", page("Hidden", &[])),
            ],
        )
        .await
    };
    let with = answers(14).await;
    let without = answers(15).await;
    let worker = InProcessWorker::start(worker_config(&ns));
    let crawls = Crawls::connect(&RedisSettings::default(), &ns)
        .await
        .unwrap();
    let start = |site: &TestSite, sitemaps: bool| CrawlRequest {
        max_depth: 1,
        max_pages: 100,
        sitemaps,
        ..CrawlRequest::new(vec![site.url("/")])
    };
    let id = crawls.start(start(&with, true)).await.unwrap().id;
    let plain = crawls.start(start(&without, false)).await.unwrap().id;
    let status = wait_for_end(&crawls, &id).await;
    let plain_status = wait_for_end(&crawls, &plain).await;

    let fetched = |site: &TestSite| -> BTreeSet<String> {
        site.requests().into_iter().map(|(p, _)| p).collect()
    };
    let expected: BTreeSet<String> = [
        "/robots.txt",
        "/",
        "/linked",
        "/sitemap-index.xml",
        "/sitemap-pages.xml",
        "/orphan-1",
        "/orphan-2",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    assert_eq!(fetched(&with), expected, "{status:?}");
    assert_eq!(with.requests().len(), expected.len(), "each URL once");
    let count = |status: &CrawlStatus, reason: &str| {
        status.terminal.get(reason).copied().unwrap_or_default()
    };
    assert_eq!(status.state, "completed");
    assert_eq!(count(&status, "done"), 6, "{status:?}");
    assert_eq!(count(&status, "robots-disallowed"), 1, "{status:?}");
    assert_eq!(count(&status, "too-deep"), 1, "{status:?}");
    assert_eq!(count(&status, "duplicate"), 1, "{status:?}");
    let total: u64 = status.terminal.values().sum();
    assert_eq!(total, status.discovered, "{status:?}");

    let plain_expected: BTreeSet<String> = ["/robots.txt", "/", "/linked"]
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(fetched(&without), plain_expected, "{plain_status:?}");
    assert_eq!(count(&plain_status, "done"), 2, "{plain_status:?}");
    worker.stop().await;
    delete_queues(&ns).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_host_paces_itself_while_fast_hosts_finish_and_status_says_why() {
    let ns = namespace("crawl-slow-host");
    let mut slow_pages = vec![
        (
            "/robots.txt".to_string(),
            Answer::text(200, "User-agent: *\nCrawl-delay: 2\n"),
        ),
        ("/".to_string(), page("Slow home", &["/s1", "/s2", "/s3"])),
    ];
    for n in 1..=3 {
        slow_pages.push((format!("/s{n}"), page(&format!("Slow {n}"), &[])));
    }
    let fast_links: Vec<String> = (1..10).map(|n| format!("/f{n}")).collect();
    let fast_links: Vec<&str> = fast_links.iter().map(String::as_str).collect();
    let mut fast_pages = vec![("/".to_string(), page("Fast home", &fast_links))];
    for n in 1..10 {
        fast_pages.push((format!("/f{n}"), page(&format!("Fast {n}"), &[])));
    }
    let slow = serve(40, &slow_pages).await;
    let fast = [serve(41, &fast_pages).await, serve(42, &fast_pages).await];
    let a = InProcessWorker::start(worker_config(&ns));
    let mut second = worker_config(&ns);
    second.worker.id = format!("{ns}-second");
    let b = InProcessWorker::start(second);
    let crawls = Crawls::connect(&RedisSettings::default(), &ns)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let id = crawls
        .start(CrawlRequest {
            max_depth: 2,
            max_pages: 100,
            ..CrawlRequest::new(vec![slow.url("/"), fast[0].url("/"), fast[1].url("/")])
        })
        .await
        .unwrap()
        .id;
    let mut seen_throttled = Vec::new();
    let status = loop {
        let status = crawls.status(&id).await.unwrap().unwrap();
        if status.state != "running" {
            break status;
        }
        seen_throttled.extend(status.throttled.clone());
        assert!(started.elapsed() < Duration::from_secs(120), "{status:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let last = |site: &TestSite| {
        site.requests()
            .into_iter()
            .map(|(_, at)| at - started)
            .max()
            .unwrap()
    };
    for site in &fast {
        assert_eq!(site.requests().len(), 11, "robots.txt and 10 pages");
        assert!(
            last(site) < Duration::from_secs(4),
            "a fast host waited for the slow one: {:?}",
            last(site)
        );
    }
    assert!(last(&slow) >= Duration::from_secs(6), "{:?}", last(&slow));
    assert!(
        slow.gaps()
            .iter()
            .skip(1)
            .all(|gap| *gap + ARRIVAL_JITTER >= Duration::from_secs(2)),
        "{:?}",
        slow.gaps()
    );
    assert_eq!(status.terminal["done"], 24, "{status:?}");
    let slow_host = slow.addr.to_string();
    assert!(
        seen_throttled.iter().any(|t| t.host == slow_host
            && t.reason == "robots.txt Crawl-delay 2 s"
            && t.delay_ms == 2_000),
        "{seen_throttled:?}"
    );
    assert!(
        seen_throttled.iter().all(|t| t.host == slow_host),
        "only the slow host is throttled: {seen_throttled:?}"
    );
    a.stop().await;
    b.stop().await;
    delete_queues(&ns).await;
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
        riptide_dispatcher::api::ApiOptions::default(),
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
    delete_queues(&ns).await;
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
    delete_queues(&ns).await;
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
        sitemaps: false,
        callback_url: None,
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
        // Each batch is the links of one page.
        let page = url::Url::parse(&format!("https://site0.example/index-{batch}")).unwrap();
        frontier::discover(&redis, &spec, &ns, Some(&page), links)
            .await
            .unwrap();
    }
    let mut conn = redis.clone();
    let mut bytes = 0;
    for key in [
        riptide_shared::keys::crawl_seen(&ns),
        riptide_shared::keys::crawl_followed(&ns),
    ] {
        bytes += redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(key)
            .arg("SAMPLES")
            .arg(0)
            .query_async::<u64>(&mut conn)
            .await
            .unwrap();
    }
    let status = crawls_status(&redis, &ns).await;
    assert_eq!(status.discovered, URLS as u64);
    assert_eq!(status.terminal["over-budget"], URLS as u64, "{status:?}");
    let per_url = bytes as f64 / URLS as f64;
    eprintln!("dedup: {per_url:.1} bytes per URL at {URLS} URLs");
    assert!(per_url <= 64.0, "{per_url:.1} bytes per URL");
    redis::cmd("DEL")
        .arg(riptide_shared::keys::crawl_seen(&ns))
        .arg(riptide_shared::keys::crawl_followed(&ns))
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
