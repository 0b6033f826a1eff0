//! Broker and Redis outages in the middle of a run: the dispatcher and the worker recover by
//! themselves and every confirmed job ends `done`. These tests stop shared services, so they
//! run one at a time, each bounded in time, and a service they stopped is started again
//! however the test ends: a failed assertion must fail this test only, not freeze Redis or
//! leave RabbitMQ stopped under every test that runs after it.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use riptide_e2e::{namespace, worker_config, Dispatcher, InProcessWorker};
use riptide_extractor::ExtractionMode;
use riptide_shared::job::{Job, JobKind};
use tokio::sync::Mutex;

/// One outage at a time.
static SERIAL: Mutex<()> = Mutex::const_new(());

/// The longest a test may take; its outage ends with it.
const TEST_BOUND: Duration = Duration::from_secs(300);

fn job(ns: &str, n: usize) -> Job {
    let html = format!("<html><head><title>Job {n}</title></head><body><article><p>Outage test page {n} with a few words of text to extract.</p></article></body></html>");
    Job::new(
        JobKind::Html,
        format!("https://{ns}.example/{n}"),
        Some(html),
        &ExtractionMode::Article,
    )
}

fn run(command: &str, args: &[&str]) {
    let status = Command::new(command)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("{command}: {e}"));
    assert!(status.success(), "{command} {args:?} failed");
}

/// A shared service stopped by a test. [`Outage::end`] restarts it; dropping it unended (a
/// panic, the time bound) restarts it too.
struct Outage {
    restart: Vec<String>,
    ended: bool,
}

impl Outage {
    fn begin(stop: &[&str], restart: &[&str]) -> Self {
        let outage = Self {
            restart: restart.iter().map(|s| s.to_string()).collect(),
            ended: false,
        };
        run(stop[0], &stop[1..]);
        outage
    }

    fn end(mut self) {
        self.ended = true;
        let restart: Vec<&str> = self.restart.iter().map(String::as_str).collect();
        run(restart[0], &restart[1..]);
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        if !self.ended {
            eprintln!("the test ended mid-outage; running {:?}", self.restart);
            let _ = Command::new(&self.restart[0])
                .args(&self.restart[1..])
                .status();
        }
    }
}

/// Runs a test's body within [`TEST_BOUND`].
async fn bounded(body: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(TEST_BOUND, body)
        .await
        .unwrap_or_else(|_| panic!("the test did not finish within {TEST_BOUND:?}"));
}

/// Submits `count` jobs, one every `every`, returning the ids the broker confirmed.
async fn submit_slowly(
    dispatcher: Arc<Dispatcher>,
    ns: String,
    count: usize,
    every: Duration,
) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 0..count {
        let job = job(&ns, n);
        match dispatcher.jobs.submit(&dispatcher.broker, &job).await {
            Ok(submitted) => ids.push(submitted.id),
            Err(e) => eprintln!("job {n} not confirmed: {e:#}"),
        }
        tokio::time::sleep(every).await;
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_restarted_during_a_run() {
    let _serial = SERIAL.lock().await;
    bounded(rabbitmq_restarted()).await;
}

async fn rabbitmq_restarted() {
    let ns = namespace("broker-restart");
    let worker = InProcessWorker::start(worker_config(&ns));
    let dispatcher = Arc::new(Dispatcher::connect(&ns).await);
    let cursor = dispatcher.jobs.completions_cursor().await.unwrap();

    let producer = tokio::spawn(submit_slowly(
        dispatcher.clone(),
        ns.clone(),
        300,
        Duration::from_millis(20),
    ));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let outage = Outage::begin(
        &["rabbitmqctl", "-q", "stop_app"],
        &["rabbitmqctl", "-q", "start_app"],
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    outage.end();
    let ids = producer.await.unwrap();
    assert_eq!(
        ids.len(),
        300,
        "the dispatcher reconnected and every job was confirmed"
    );

    dispatcher.assert_all_done(cursor, &ids).await;
    worker.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_for_20_seconds_during_a_run() {
    let _serial = SERIAL.lock().await;
    bounded(redis_stopped()).await;
}

async fn redis_stopped() {
    let ns = namespace("redis-stop");
    let dispatcher = Arc::new(Dispatcher::connect(&ns).await);
    let cursor = dispatcher.jobs.completions_cursor().await.unwrap();
    let ids: Vec<String> = {
        let mut ids = Vec::new();
        for n in 0..1000 {
            ids.push(dispatcher.submit(&job(&ns, n)).await.id);
        }
        ids
    };
    let pid = redis_pid().await;
    let worker = InProcessWorker::start(worker_config(&ns));
    // The outage starts once the worker is under way, whatever its start-up time.
    let under_way = tokio::time::Instant::now() + Duration::from_secs(60);
    while dispatcher
        .jobs
        .view(&ids[0])
        .await
        .unwrap()
        .and_then(|v| v.status)
        == Some("queued".into())
    {
        assert!(
            tokio::time::Instant::now() < under_way,
            "the worker never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Redis stops answering (the process is stopped, its data kept) for 20 s.
    let outage = Outage::begin(&["kill", "-STOP", &pid], &["kill", "-CONT", &pid]);
    let depth_at_start = dispatcher.broker.queue_depths().await.unwrap()[0].1;
    tokio::time::sleep(Duration::from_secs(20)).await;
    let depth_at_end = dispatcher.broker.queue_depths().await.unwrap()[0].1;
    outage.end();
    // Nothing is acked without its result stored: the worker holds at most its prefetch
    // of deliveries, waiting for Redis, and takes no more.
    let prefetch = worker_config(&ns).wasm.max_instances;
    assert!(
        depth_at_start.saturating_sub(depth_at_end) <= prefetch,
        "the jobs queue went from {depth_at_start} to {depth_at_end} while Redis was away"
    );

    dispatcher.assert_all_done(cursor, &ids).await;
    worker.stop().await;
    dispatcher.delete_queues().await;
}

async fn redis_pid() -> String {
    let client = redis::Client::open("redis://127.0.0.1:6379/").unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut conn)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .map(|p| p.trim().to_string())
        .expect("process_id in INFO")
}
