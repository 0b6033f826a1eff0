//! A worker killed with SIGKILL in the middle of 2,000 jobs, or of a 2,000-page crawl, and
//! restarted: every job ends `done` in Redis, none is lost, and the crawl completes with
//! each of its pages done exactly once. The worker runs as a child process: this test binary
//! re-executes itself to run only `worker_process`, which hosts the real worker.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use riptide_dispatcher::crawls::{CrawlRequest, Crawls};
use riptide_e2e::{delete_queues, namespace, worker_config, Answer, Dispatcher, TestSite};
use riptide_extractor::ExtractionMode;
use riptide_shared::frontier::CrawlStatus;
use riptide_shared::job::{Job, JobKind};
use riptide_shared::settings::RedisSettings;
use tokio::task::JoinSet;

const JOBS: usize = 2_000;
const NAMESPACE_VAR: &str = "RIPTIDE_E2E_CHILD_NAMESPACE";

/// Runs only in the child process: the worker, until SIGTERM.
#[test]
#[ignore = "the worker process of a_worker_killed_mid_run_loses_nothing"]
fn worker_process() {
    let Ok(ns) = std::env::var(NAMESPACE_VAR) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let shutdown = riptide_worker::shutdown::on_signal().unwrap();
        riptide_worker::server::run(worker_config(&ns), shutdown)
            .await
            .unwrap();
    });
}

fn spawn_worker(ns: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "worker_process", "--nocapture"])
        .env(NAMESPACE_VAR, ns)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("spawning the worker process")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_run_loses_nothing() {
    let ns = namespace("sigkill");
    let dispatcher = Arc::new(Dispatcher::connect(&ns).await);
    let cursor = dispatcher.jobs.completions_cursor().await.unwrap();

    let mut ids = Vec::with_capacity(JOBS);
    let mut submissions = JoinSet::new();
    for n in 0..JOBS {
        let html = format!("<html><head><title>Job {n}</title></head><body><article><p>Page number {n} of the crash test, with a sentence or two of text to extract.</p></article></body></html>");
        let job = Job::new(
            JobKind::Html,
            format!("https://{ns}.example/{n}"),
            Some(html),
            &ExtractionMode::Article,
        );
        ids.push(job.id.clone());
        let dispatcher = dispatcher.clone();
        submissions.spawn(async move { dispatcher.submit(&job).await });
        if submissions.len() >= 64 {
            submissions.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(submitted) = submissions.join_next().await {
        assert!(!submitted.unwrap().duplicate);
    }

    let mut first = spawn_worker(&ns);
    // Kill once the worker is well into the run, with jobs in flight.
    let sample: Vec<&String> = ids.iter().step_by(20).collect();
    loop {
        let mut done = 0;
        for id in &sample {
            if dispatcher
                .jobs
                .view(id)
                .await
                .unwrap()
                .and_then(|v| v.status)
                .as_deref()
                == Some("done")
            {
                done += 1;
            }
        }
        if done >= sample.len() / 10 {
            assert!(done < sample.len(), "the run finished before the kill");
            break;
        }
        assert!(
            first.try_wait().unwrap().is_none(),
            "the worker exited early"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill().expect("SIGKILL");
    first.wait().unwrap();

    let mut second = spawn_worker(&ns);
    dispatcher.assert_all_done(cursor, &ids).await;

    // SIGTERM drains and exits 0.
    let status = Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = second.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
    dispatcher.delete_queues().await;
}

/// One host of the crash crawl: a home page, 20 sections and 479 articles (500 pages),
/// articles linking on to their neighbours, home and their own fragments.
fn crawl_site_pages() -> Vec<(String, Answer)> {
    const SECTIONS: usize = 20;
    const ARTICLES: usize = 479;
    let html = |title: &str, links: Vec<String>| {
        let anchors: String = links
            .iter()
            .map(|href| format!("<a href=\"{href}\">{href}</a> "))
            .collect();
        Answer::html(format!(
            "<html><head><title>{title}</title></head><body><nav>{anchors}</nav><article><p>{title}: a page of the crash crawl, with a sentence of text.</p></article></body></html>"
        ))
    };
    let mut pages = vec![(
        "/".to_string(),
        html("Home", (0..SECTIONS).map(|s| format!("/s{s}")).collect()),
    )];
    for s in 0..SECTIONS {
        let articles = (s * 24..(s * 24 + 24).min(ARTICLES)).map(|a| format!("/a{a}"));
        pages.push((
            format!("/s{s}"),
            html(&format!("Section {s}"), articles.collect()),
        ));
    }
    for a in 0..ARTICLES {
        let links = vec![
            "/".to_string(),
            format!("/a{}", (a + 1) % ARTICLES),
            format!("/a{a}#comments"),
        ];
        pages.push((format!("/a{a}"), html(&format!("Article {a}"), links)));
    }
    pages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_crawl_leaves_every_page_done_once() {
    let ns = namespace("sigkill-crawl");
    let pages = crawl_site_pages();
    let mut sites = Vec::new();
    for host in 0..4u8 {
        let answers = pages.iter().map(|(p, a)| (p.as_str(), a.clone())).collect();
        sites.push(TestSite::start([127, 0, 0, 16 + host], answers).await);
    }
    let crawls = Crawls::connect(&RedisSettings::default(), &ns)
        .await
        .unwrap();
    let mut first = spawn_worker(&ns);
    let id = crawls
        .start(CrawlRequest {
            max_depth: 3,
            max_pages: 10_000,
            ..CrawlRequest::new(sites.iter().map(|s| s.url("/")).collect())
        })
        .await
        .unwrap()
        .id;
    let done = |status: &CrawlStatus| status.terminal.get("done").copied().unwrap_or_default();
    loop {
        let status = crawls.status(&id).await.unwrap().unwrap();
        if done(&status) >= 500 {
            assert_eq!(status.state, "running", "the crawl ended before the kill");
            break;
        }
        assert!(
            first.try_wait().unwrap().is_none(),
            "the worker exited early"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().expect("SIGKILL");
    first.wait().unwrap();

    let mut second = spawn_worker(&ns);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    let status = loop {
        let status = crawls.status(&id).await.unwrap().unwrap();
        if status.state != "running" {
            break status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the crawl never completed: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = second.kill();
    second.wait().unwrap();

    let expected: BTreeSet<String> = pages.iter().map(|(p, _)| p.clone()).collect();
    for site in &sites {
        let fetched: BTreeSet<String> = site
            .requests()
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| p != "/robots.txt")
            .collect();
        assert_eq!(fetched, expected, "{}", site.addr);
    }
    let all = (sites.len() * pages.len()) as u64;
    assert_eq!(status.state, "completed", "{status:?}");
    assert_eq!(done(&status), all, "{status:?}");
    assert_eq!(status.admitted, all, "{status:?}");
    let total: u64 = status.terminal.values().sum();
    assert_eq!(total, status.discovered, "{status:?}");
    let results = crawls.pages(&id, 0, 10_000).await.unwrap();
    let unique: BTreeSet<&String> = results.iter().collect();
    assert_eq!(results.len() as u64, all, "each page in the results once");
    assert_eq!(unique.len(), results.len(), "no page in the results twice");
    delete_queues(&ns).await;
}
