//! robots.txt for every fetch, against real RabbitMQ and Redis, with sites of their own on
//! loopback addresses: refused URLs are never requested and end `dead` with the refusing
//! rule, robots.txt is fetched once for the whole fleet, a missing robots.txt allows all,
//! a failing one holds the site's pages back.

use std::time::Duration;

use riptide_e2e::{namespace, worker_config, Answer, Dispatcher, InProcessWorker, TestSite};
use riptide_extractor::ExtractionMode;
use riptide_shared::job::{Job, JobKind};

const FINISH: Duration = Duration::from_secs(60);

fn page(title: &str) -> Answer {
    Answer::html(format!(
        "<html><head><title>{title}</title></head><body><article><p>The {title} page has a few words of text.</p></article></body></html>"
    ))
}

fn url_job(url: String) -> Job {
    Job::new(JobKind::Url, url, None, &ExtractionMode::Article)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_urls_are_never_fetched_and_robots_txt_is_fetched_once_for_the_fleet() {
    let ns = namespace("robots");
    let site = TestSite::start(
        [127, 0, 0, 2],
        vec![
            (
                "/robots.txt",
                Answer::text(
                    200,
                    "User-agent: *\nDisallow: /private\n\nUser-agent: RipTide\nDisallow: /no-riptide\nDisallow: /*.pdf$\n",
                ),
            ),
            ("/open", page("Open")),
            ("/private/x", page("Private")),
            ("/no-riptide/y", page("Refused")),
            ("/doc.pdf", page("Pdf")),
        ],
    )
    .await;
    let no_robots = TestSite::start([127, 0, 0, 3], vec![("/page", page("Free"))]).await;
    let first = InProcessWorker::start(worker_config(&ns));
    let mut second_config = worker_config(&ns);
    second_config.worker.id = format!("{ns}-second");
    let second = InProcessWorker::start(second_config);
    let dispatcher = Dispatcher::connect(&ns).await;

    let allowed: Vec<Job> = ["/open", "/private/x"]
        .iter()
        .map(|p| url_job(site.url(p)))
        .chain([url_job(no_robots.url("/page"))])
        .collect();
    let refused: Vec<Job> = ["/no-riptide/y", "/doc.pdf"]
        .iter()
        .map(|p| url_job(site.url(p)))
        .collect();
    for job in allowed.iter().chain(&refused) {
        dispatcher.submit(job).await;
    }
    for job in &allowed {
        let view = dispatcher.wait_finished(&job.id, FINISH).await;
        assert_eq!(view.status.as_deref(), Some("done"), "{view:?}");
    }
    for (job, rule) in refused.iter().zip([
        "Disallow: /no-riptide (line 5)",
        "Disallow: /*.pdf$ (line 6)",
    ]) {
        let view = dispatcher.wait_finished(&job.id, FINISH).await;
        assert_eq!(view.status.as_deref(), Some("dead"), "{view:?}");
        let error = view.error.unwrap();
        assert!(
            error.starts_with("robots-disallowed: ") && error.contains(rule),
            "{error}"
        );
    }
    let letters = dispatcher.broker.dead_letters(10).await.unwrap();
    assert_eq!(letters.len(), 2);
    assert!(letters
        .iter()
        .all(|l| l.reason.as_deref() == Some("robots-disallowed")));

    assert_eq!(site.hits("/no-riptide/y"), 0, "a refused URL was requested");
    assert_eq!(site.hits("/doc.pdf"), 0, "a refused URL was requested");
    assert_eq!(
        site.hits("/robots.txt"),
        1,
        "robots.txt fetched once for two workers"
    );
    assert_eq!(no_robots.hits("/robots.txt"), 1);
    first.stop().await;
    second.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_robots_txt_holds_the_site_back() {
    let ns = namespace("robots-503");
    let site = TestSite::start(
        [127, 0, 0, 4],
        vec![
            ("/robots.txt", Answer::text(503, "busy")),
            ("/page", page("Held")),
        ],
    )
    .await;
    let mut config = worker_config(&ns);
    config.broker.max_attempts = 2;
    let worker = InProcessWorker::start(config);
    let dispatcher = Dispatcher::connect(&ns).await;
    let job = url_job(site.url("/page"));
    dispatcher.submit(&job).await;
    let view = dispatcher.wait_finished(&job.id, FINISH).await;
    assert_eq!(view.status.as_deref(), Some("dead"), "{view:?}");
    let error = view.error.unwrap();
    assert!(error.contains("robots.txt unavailable"), "{error}");
    let letters = dispatcher.broker.dead_letters(10).await.unwrap();
    assert_eq!(letters[0].reason.as_deref(), Some("max-attempts"));
    assert_eq!(
        site.hits("/page"),
        0,
        "the page was fetched without robots.txt"
    );
    assert_eq!(
        site.hits("/robots.txt"),
        1,
        "the failure is cached for a while"
    );
    worker.stop().await;
    dispatcher.delete_queues().await;
}
