//! Politeness across the fleet, against real RabbitMQ and Redis, with sites of their own on
//! loopback addresses that record every request: with two workers, fetch starts on a host
//! are never closer than its delay and never overlap beyond its concurrency; a slow host
//! (Crawl-delay) does not hold back fast ones; a 429 with Retry-After slows its host down.

use std::time::Duration;

use riptide_e2e::{
    namespace, worker_config, Answer, Dispatcher, InProcessWorker, TestSite, ARRIVAL_JITTER,
};
use riptide_extractor::ExtractionMode;
use riptide_shared::job::{Job, JobKind};
use riptide_worker::config::WorkerConfig;

const FINISH: Duration = Duration::from_secs(120);

fn page(n: usize) -> Answer {
    Answer::html(format!(
        "<html><head><title>Page {n}</title></head><body><article><p>Page {n} of the site, with a few words of text.</p></article></body></html>"
    ))
}

fn site_pages(count: usize) -> Vec<(String, Answer)> {
    (0..count).map(|n| (format!("/p{n}"), page(n))).collect()
}

async fn start(ip: [u8; 4], answers: Vec<(String, Answer)>) -> TestSite {
    TestSite::start(
        ip,
        answers
            .iter()
            .map(|(p, a)| (p.as_str(), a.clone()))
            .collect(),
    )
    .await
}

fn two_workers(ns: &str, delay_ms: u64) -> (InProcessWorker, InProcessWorker) {
    let config = |id: &str| {
        let mut config: WorkerConfig = worker_config(ns);
        config.worker.id = format!("{ns}-{id}");
        config.politeness.delay_ms = delay_ms;
        config
    };
    (
        InProcessWorker::start(config("a")),
        InProcessWorker::start(config("b")),
    )
}

async fn run_all(dispatcher: &Dispatcher, urls: Vec<String>) {
    let jobs: Vec<Job> = urls
        .into_iter()
        .map(|url| Job::new(JobKind::Url, url, None, &ExtractionMode::Article))
        .collect();
    for job in &jobs {
        dispatcher.submit(job).await;
    }
    for job in &jobs {
        let view = dispatcher.wait_finished(&job.id, FINISH).await;
        assert_eq!(view.status.as_deref(), Some("done"), "{view:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_keep_each_hosts_delay_and_concurrency() {
    let ns = namespace("politeness");
    let delay = Duration::from_millis(150);
    // Answers slower than the delay: only the concurrency limit keeps fetches apart.
    let slow: Vec<(String, Answer)> = site_pages(8)
        .into_iter()
        .map(|(p, a)| (p, a.slow(Duration::from_millis(250))))
        .collect();
    let first = start([127, 0, 0, 5], slow).await;
    let second = start([127, 0, 0, 6], site_pages(8)).await;
    let (a, b) = two_workers(&ns, delay.as_millis() as u64);
    let dispatcher = Dispatcher::connect(&ns).await;
    let urls = (0..8)
        .flat_map(|n| [first.url(&format!("/p{n}")), second.url(&format!("/p{n}"))])
        .collect();
    run_all(&dispatcher, urls).await;

    for site in [&first, &second] {
        // robots.txt and the 8 pages.
        assert_eq!(site.requests().len(), 9, "{:?}", site.requests());
        let gaps = site.gaps();
        assert!(
            gaps.iter().all(|gap| *gap + ARRIVAL_JITTER >= delay),
            "fetch starts closer than {delay:?}: {gaps:?}"
        );
        assert_eq!(site.max_in_flight(), 1, "two fetches at once on one host");
    }
    a.stop().await;
    b.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_host_does_not_hold_back_fast_ones() {
    let ns = namespace("slow-host");
    let mut slow_answers = site_pages(4);
    slow_answers.push((
        "/robots.txt".into(),
        Answer::text(200, "User-agent: *\nCrawl-delay: 1\n"),
    ));
    let slow = start([127, 0, 0, 7], slow_answers).await;
    let fast = start([127, 0, 0, 8], site_pages(10)).await;
    let (a, b) = two_workers(&ns, 20);
    let dispatcher = Dispatcher::connect(&ns).await;
    let started = std::time::Instant::now();
    // The slow host's jobs first: they must not occupy the workers.
    let urls = (0..4)
        .map(|n| slow.url(&format!("/p{n}")))
        .chain((0..10).map(|n| fast.url(&format!("/p{n}"))))
        .collect();
    run_all(&dispatcher, urls).await;

    let last = |site: &TestSite| {
        site.requests()
            .into_iter()
            .map(|(_, at)| at - started)
            .max()
            .unwrap()
    };
    assert!(
        last(&fast) < Duration::from_secs(2),
        "the fast host took {:?}",
        last(&fast)
    );
    assert!(
        last(&slow) >= Duration::from_secs(4) - ARRIVAL_JITTER,
        "robots.txt then 4 pages, 1 s apart"
    );
    assert!(
        slow.gaps()
            .iter()
            .all(|gap| *gap + ARRIVAL_JITTER >= Duration::from_secs(1)),
        "{:?}",
        slow.gaps()
    );
    a.stop().await;
    b.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_slows_its_host_down() {
    let ns = namespace("retry-after");
    let mut answers = site_pages(2);
    answers.push((
        "/busy".into(),
        Answer::text(429, "slow down").header("retry-after", "2"),
    ));
    let site = start([127, 0, 0, 9], answers).await;
    let (a, b) = two_workers(&ns, 20);
    let dispatcher = Dispatcher::connect(&ns).await;
    let busy = Job::new(
        JobKind::Url,
        site.url("/busy"),
        None,
        &ExtractionMode::Article,
    );
    dispatcher.submit(&busy).await;
    let deadline = tokio::time::Instant::now() + FINISH;
    while site.hits("/busy") == 0 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    run_all(&dispatcher, vec![site.url("/p0"), site.url("/p1")]).await;

    let requests = site.requests();
    let throttled = requests.iter().find(|(p, _)| p == "/busy").unwrap().1;
    let next = requests
        .iter()
        .filter(|(_, at)| *at > throttled)
        .map(|(_, at)| *at - throttled)
        .min()
        .unwrap();
    assert!(
        next + ARRIVAL_JITTER >= Duration::from_secs(2),
        "the host was asked again {next:?} after a Retry-After of 2 s"
    );
    a.stop().await;
    b.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test]
async fn the_gate_spaces_starts_bounds_concurrency_and_reserves_slots() {
    use riptide_worker::politeness::{Answered, Gate, Politeness, PolitenessConfig};
    let ns = namespace("gate");
    let redis = riptide_shared::settings::RedisSettings::default()
        .connect()
        .await
        .unwrap();
    let politeness = Politeness::new(
        redis,
        PolitenessConfig {
            max_concurrency: 2,
            ..PolitenessConfig::default()
        },
        Duration::from_secs(15),
    );
    let host = format!("{ns}.example:80");
    let delay = Duration::from_millis(300);
    let Gate::Granted(first) = politeness.acquire(&host, "a", delay).await.unwrap() else {
        panic!("a free host grants the first fetch");
    };
    match politeness.acquire(&host, "b", delay).await.unwrap() {
        Gate::Wait(wait) => assert!(wait <= delay && wait > Duration::ZERO, "{wait:?}"),
        granted => panic!("a second start within the delay: {granted:?}"),
    }
    tokio::time::sleep(delay).await;
    let Gate::Granted(second) = politeness.acquire(&host, "c", delay).await.unwrap() else {
        panic!("granted once the delay passed");
    };
    tokio::time::sleep(delay).await;
    assert!(
        matches!(
            politeness.acquire(&host, "d", delay).await.unwrap(),
            Gate::Wait(_)
        ),
        "two fetches in flight: the concurrency limit"
    );
    politeness
        .release(
            &first,
            Answered::Throttled {
                retry_after: Some(Duration::from_secs(5)),
            },
        )
        .await
        .unwrap();
    politeness
        .release(&second, Answered::Normally)
        .await
        .unwrap();
    match politeness.acquire(&host, "e", delay).await.unwrap() {
        Gate::Wait(wait) => assert!(wait > Duration::from_secs(4), "Retry-After: {wait:?}"),
        granted => panic!("granted during a Retry-After: {granted:?}"),
    }

    // Jobs deferred together get slots a delay apart, not the same instant.
    let other = format!("{ns}.other:80");
    let mut slots = Vec::new();
    for n in 0..3 {
        let job = format!("job {n}");
        let until = politeness
            .defer(
                &ns,
                &other,
                job.as_bytes(),
                Duration::from_millis(100),
                delay,
            )
            .await
            .unwrap();
        slots.push(until);
    }
    assert!(
        slots[1] >= slots[0] + delay - Duration::from_millis(5),
        "{slots:?}"
    );
    assert!(
        slots[2] >= slots[1] + delay - Duration::from_millis(5),
        "{slots:?}"
    );
    let mut conn = riptide_shared::settings::RedisSettings::default()
        .connect()
        .await
        .unwrap();
    let deferred: u64 = redis::cmd("ZCARD")
        .arg(riptide_shared::keys::deferred(&ns))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(deferred, 3);
    redis::cmd("DEL")
        .arg(riptide_shared::keys::deferred(&ns))
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
}
