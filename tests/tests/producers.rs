//! What producers reach for first, end to end against real RabbitMQ and Redis with the real
//! component: a cost receipt on every result summed exactly per tenant, idempotency keys
//! that hold under concurrent submits, cancellation of waiting and running jobs, and jobs
//! scheduled for later.

use std::sync::Arc;
use std::time::Duration;

use riptide_dispatcher::jobs::Cancellation;
use riptide_e2e::{
    corpus, namespace, worker_config, Answer, Dispatcher, InProcessWorker, TestSite, WebServer,
};
use riptide_extractor::ExtractionMode;
use riptide_shared::job::{now_ms, Job, JobKind, Receipt};
use tokio::task::JoinSet;

const FINISH: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_result_carries_a_receipt_and_tenant_totals_are_their_sum() {
    let ns = namespace("receipts");
    let tenant = format!("t-{ns}");
    let web = WebServer::start().await;
    let worker = InProcessWorker::start(worker_config(&ns));
    let dispatcher = Dispatcher::connect(&ns).await;

    let page = corpus::page("4219d096");
    let mut jobs = Vec::new();
    for n in 0..3 {
        let mut fetched = Job::new(
            JobKind::Url,
            web.url(&format!("/page/4219d096?n={n}")),
            None,
            &ExtractionMode::Article,
        );
        fetched.tenant = Some(tenant.clone());
        let mut inline = Job::new(
            JobKind::Html,
            format!("https://{ns}.example/{n}"),
            Some(page.html.clone()),
            &ExtractionMode::Article,
        );
        inline.tenant = Some(tenant.clone());
        jobs.push(fetched);
        jobs.push(inline);
    }
    for job in &jobs {
        dispatcher.submit(job).await;
    }
    let mut receipts = Vec::new();
    for job in &jobs {
        let view = dispatcher.wait_finished(&job.id, FINISH).await;
        assert_eq!(view.status.as_deref(), Some("done"), "{view:?}");
        let result = view.result.expect("a stored result");
        let receipt: Receipt = serde_json::from_value(result["receipt"].clone()).unwrap();
        assert_eq!(receipt.engine, "wasm");
        assert_eq!(receipt.component_digest.len(), 64, "{receipt:?}");
        assert!(receipt.fuel_consumed > 1_000_000, "{receipt:?}");
        assert!(receipt.extraction_cpu_us > 0, "{receipt:?}");
        assert!(receipt.peak_memory_bytes >= 1 << 20, "{receipt:?}");
        assert!(
            receipt.extract_us > 0 && receipt.store_us > 0,
            "{receipt:?}"
        );
        if job.kind == JobKind::Url {
            assert_eq!(receipt.bytes_fetched, page.html.len() as u64, "{receipt:?}");
            assert!(receipt.fetch_us > 0, "{receipt:?}");
        } else {
            assert_eq!((receipt.bytes_fetched, receipt.fetch_us), (0, 0));
        }
        receipts.push(receipt);
    }

    let usage = dispatcher.jobs.usage(Some(&tenant)).await.unwrap();
    let totals = &usage[&tenant];
    let sum = |pick: fn(&Receipt) -> u64| receipts.iter().map(pick).sum::<u64>();
    assert_eq!(totals["jobs"], jobs.len() as u64);
    assert_eq!(totals["fuel_consumed"], sum(|r| r.fuel_consumed));
    assert_eq!(totals["extraction_cpu_us"], sum(|r| r.extraction_cpu_us));
    assert_eq!(totals["peak_memory_bytes"], sum(|r| r.peak_memory_bytes));
    assert_eq!(totals["bytes_fetched"], sum(|r| r.bytes_fetched));
    assert_eq!(totals["queue_wait_us"], sum(|r| r.queue_wait_us));
    assert_eq!(totals["fetch_us"], sum(|r| r.fetch_us));
    assert_eq!(totals["extract_us"], sum(|r| r.extract_us));
    assert_eq!(totals["store_us"], sum(|r| r.store_us));

    // A copy of a done job changes nothing, totals included.
    dispatcher
        .broker
        .publish(&jobs[1])
        .await
        .expect("republishing a done job");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let again = dispatcher.jobs.usage(Some(&tenant)).await.unwrap();
    assert_eq!(again[&tenant]["jobs"], jobs.len() as u64);
    worker.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_submits_with_one_idempotency_key_create_one_job() {
    let ns = namespace("idempotency");
    let dispatcher = Arc::new(Dispatcher::connect(&ns).await);
    let key = format!("order-{ns}");
    let mut submits = JoinSet::new();
    for n in 0..50 {
        let dispatcher = dispatcher.clone();
        let key = key.clone();
        submits.spawn(async move {
            // Different pages: only the key makes them the same submission.
            let mut job = Job::new(
                JobKind::Html,
                format!("https://{n}.example/"),
                Some(format!("<p>page {n}</p>")),
                &ExtractionMode::Article,
            );
            job.idempotency_key = Some(key);
            (job.id.clone(), dispatcher.submit(&job).await)
        });
    }
    let mut created = Vec::new();
    let mut answered = std::collections::BTreeSet::new();
    while let Some(joined) = submits.join_next().await {
        let (own_id, submitted) = joined.unwrap();
        answered.insert(submitted.id.clone());
        if !submitted.duplicate {
            assert_eq!(submitted.id, own_id);
            created.push(own_id);
        } else {
            assert!(submitted.status.is_some(), "{submitted:?}");
        }
    }
    assert_eq!(created.len(), 1, "exactly one submit creates the job");
    assert_eq!(
        answered.len(),
        1,
        "every submit answers with its id: {answered:?}"
    );
    let depths = dispatcher.broker.queue_depths().await.unwrap();
    let jobs_queue = depths
        .iter()
        .find(|(queue, _)| queue.ends_with(".jobs"))
        .map(|(_, depth)| *depth);
    assert_eq!(jobs_queue, Some(1), "{depths:?}");

    // The same key again later still answers with the original job and its status.
    let mut late = Job::new(
        JobKind::Html,
        "https://late.example/",
        Some("<p>late</p>".into()),
        &ExtractionMode::Article,
    );
    late.idempotency_key = Some(key);
    let again = dispatcher.submit(&late).await;
    assert!(again.duplicate);
    assert_eq!(again.id, created[0]);
    assert_eq!(again.status.as_deref(), Some("queued"));
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_queued_job_is_never_fetched() {
    let ns = namespace("cancel-queued");
    let site = TestSite::start([127, 0, 0, 43], vec![("/page", page("Never"))]).await;
    let dispatcher = Dispatcher::connect(&ns).await;
    let job = Job::new(
        JobKind::Url,
        site.url("/page"),
        None,
        &ExtractionMode::Article,
    );
    dispatcher.submit(&job).await;
    assert_eq!(
        dispatcher.jobs.cancel(&ns, &job.id).await.unwrap(),
        Cancellation::Cancelled
    );
    let view = dispatcher.jobs.view(&job.id).await.unwrap().unwrap();
    assert_eq!(view.status.as_deref(), Some("cancelled"), "{view:?}");
    assert_eq!(
        dispatcher.jobs.cancel(&ns, &job.id).await.unwrap(),
        Cancellation::AlreadyFinished {
            status: "cancelled".into()
        },
        "cancelling again changes nothing"
    );
    assert_eq!(
        dispatcher.jobs.cancel(&ns, "no-such-job").await.unwrap(),
        Cancellation::Unknown
    );

    // The copy in the queue reaches a worker, which acks it without fetching.
    let worker = InProcessWorker::start(worker_config(&ns));
    let deadline = tokio::time::Instant::now() + FINISH;
    while queue_depth(&dispatcher).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the queue never drained"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(site.requests().is_empty(), "{:?}", site.requests());
    let view = dispatcher.jobs.view(&job.id).await.unwrap().unwrap();
    assert_eq!(view.status.as_deref(), Some("cancelled"));
    worker.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_job_is_stopped_within_a_second_and_the_worker_carries_on() {
    let ns = namespace("cancel-running");
    let site = TestSite::start(
        [127, 0, 0, 44],
        vec![
            ("/slow", page("Slow").slow(Duration::from_secs(30))),
            ("/quick", page("Quick")),
        ],
    )
    .await;
    let mut config = worker_config(&ns);
    config.fetch.timeout_ms = 60_000;
    let worker = InProcessWorker::start(config);
    let dispatcher = Dispatcher::connect(&ns).await;
    let slow = Job::new(
        JobKind::Url,
        site.url("/slow"),
        None,
        &ExtractionMode::Article,
    );
    dispatcher.submit(&slow).await;
    let deadline = tokio::time::Instant::now() + FINISH;
    while site.hits("/slow") == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never fetched");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cancelled_at = std::time::Instant::now();
    assert_eq!(
        dispatcher.jobs.cancel(&ns, &slow.id).await.unwrap(),
        Cancellation::Stopping
    );
    loop {
        let view = dispatcher.jobs.view(&slow.id).await.unwrap().unwrap();
        if view.status.as_deref() == Some("cancelled") {
            break;
        }
        assert!(
            cancelled_at.elapsed() < Duration::from_secs(1),
            "still {view:?} a second after the cancel"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        dispatcher.jobs.cancel(&ns, &slow.id).await.unwrap(),
        Cancellation::AlreadyFinished {
            status: "cancelled".into()
        }
    );

    let quick = Job::new(
        JobKind::Url,
        site.url("/quick"),
        None,
        &ExtractionMode::Article,
    );
    dispatcher.submit(&quick).await;
    let view = dispatcher.wait_finished(&quick.id, FINISH).await;
    assert_eq!(view.status.as_deref(), Some("done"), "{view:?}");
    assert_eq!(
        dispatcher.jobs.cancel(&ns, &quick.id).await.unwrap(),
        Cancellation::AlreadyFinished {
            status: "done".into()
        },
        "a finished job is not changed"
    );
    assert_eq!(site.hits("/slow"), 1, "the cancelled job was not run again");
    worker.stop().await;
    dispatcher.delete_queues().await;
}

fn page(title: &str) -> Answer {
    Answer::html(format!(
        "<html><head><title>{title}</title></head><body><article><p>The {title} page, with a few words of text for the extractor.</p></article></body></html>"
    ))
}

async fn queue_depth(dispatcher: &Dispatcher) -> u32 {
    dispatcher
        .broker
        .queue_depths()
        .await
        .unwrap()
        .iter()
        .find(|(queue, _)| queue.ends_with(".jobs"))
        .map_or(0, |(_, depth)| *depth)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_scheduled_three_seconds_ahead_runs_on_time_across_a_dispatcher_restart() {
    let ns = namespace("run-at");
    let worker = InProcessWorker::start(worker_config(&ns));
    let first = Dispatcher::connect(&ns).await;
    let html = "<html><body><article><p>A scheduled page with a few words of text to extract.</p></article></body></html>";
    let mut scheduled = Job::new(
        JobKind::Html,
        format!("https://{ns}.example/"),
        Some(html.into()),
        &ExtractionMode::Article,
    );
    let submitted_at = std::time::Instant::now();
    scheduled.run_at_ms = Some(now_ms() + 3_000);
    // Published straight to the queue, as a producer in another language would, with its
    // own schedule: the worker sets it aside until its time.
    let mut published = scheduled.clone();
    published.id = format!("{}-published", scheduled.id);
    published.url = format!("https://{ns}.example/published");
    first.submit(&scheduled).await;
    first.broker.publish(&published).await.unwrap();
    let mut past = scheduled.clone();
    past.id = format!("{}-past", scheduled.id);
    past.run_at_ms = Some(now_ms() - 120_000);
    assert!(first.jobs.submit(&first.broker, &past).await.is_err());
    drop(first);

    tokio::time::sleep(Duration::from_millis(2_000).saturating_sub(submitted_at.elapsed())).await;
    let second = Dispatcher::connect(&ns).await;
    for id in [&scheduled.id, &published.id] {
        let status = second
            .jobs
            .view(id)
            .await
            .unwrap()
            .and_then(|view| view.status);
        assert_ne!(status.as_deref(), Some("done"), "{id} ran before its time");
    }
    let view = second.jobs.view(&scheduled.id).await.unwrap().unwrap();
    assert_eq!(view.run_at_ms, scheduled.run_at_ms);
    for id in [&scheduled.id, &published.id] {
        let view = second.wait_finished(id, Duration::from_secs(10)).await;
        assert_eq!(view.status.as_deref(), Some("done"), "{view:?}");
    }
    let done_at = submitted_at.elapsed();
    assert!(
        done_at >= Duration::from_secs(3) && done_at <= Duration::from_millis(4_500),
        "done {done_at:?} after submitting"
    );
    worker.stop().await;
    second.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_servers_promoter_queues_scheduled_jobs_while_no_worker_runs() {
    let ns = namespace("run-at-no-worker");
    let dispatcher = Dispatcher::connect(&ns).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let promoter = riptide_shared::deferred::Promoter {
        broker: riptide_shared::settings::BrokerSettings {
            namespace: ns.clone(),
            ..Default::default()
        },
        redis: dispatcher.jobs.connection(),
    };
    let promoting = tokio::spawn({
        let stop = stop.clone();
        async move { promoter.run(stop).await }
    });
    let mut job = Job::new(
        JobKind::Html,
        format!("https://{ns}.example/"),
        Some("<p>later</p>".into()),
        &ExtractionMode::Article,
    );
    job.run_at_ms = Some(now_ms() + 1_500);
    dispatcher.submit(&job).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(queue_depth(&dispatcher).await, 0, "queued before its time");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(queue_depth(&dispatcher).await, 1, "not queued at its time");
    stop.cancel();
    promoting.await.unwrap();
    dispatcher.delete_queues().await;
}

/// A webhook receiver on a loopback address that records every delivery and refuses the
/// first `fail_first` with a 500.
struct Receiver {
    url: String,
    deliveries: Arc<std::sync::Mutex<Vec<Received>>>,
}

#[derive(Debug, Clone)]
struct Received {
    delivery_id: String,
    signature: String,
    body: String,
    answered: u16,
}

impl Receiver {
    async fn start(ip: [u8; 4], fail_first: usize) -> Self {
        let deliveries: Arc<std::sync::Mutex<Vec<Received>>> = Arc::default();
        let recorded = deliveries.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let recorded = recorded.clone();
                async move {
                    let mut all = recorded.lock().unwrap();
                    let answered = if all.len() < fail_first { 500 } else { 200 };
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string()
                    };
                    all.push(Received {
                        delivery_id: header("x-riptide-delivery"),
                        signature: header("x-riptide-signature"),
                        body,
                        answered,
                    });
                    axum::http::StatusCode::from_u16(answered).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(std::net::SocketAddr::from((ip, 0)))
            .await
            .unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, deliveries }
    }

    fn deliveries(&self) -> Vec<Received> {
        self.deliveries.lock().unwrap().clone()
    }
}

/// Checks `t=<ts>,v1=<hex>` against `body` the way a receiver would.
fn signature_is_valid(secret: &str, signature: &str, body: &str) -> bool {
    let Some((t, _)) = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(','))
    else {
        return false;
    };
    let Ok(timestamp) = t.parse::<u64>() else {
        return false;
    };
    riptide_worker::callback::signature(secret, timestamp, body) == signature
}

async fn api(ns: &str, dispatcher: Dispatcher) -> String {
    let crawls = riptide_dispatcher::crawls::Crawls::connect(
        &riptide_shared::settings::RedisSettings::default(),
        ns,
    )
    .await
    .unwrap();
    let router = riptide_dispatcher::api::router(
        Arc::new(dispatcher.broker),
        Arc::new(dispatcher.jobs),
        Arc::new(crawls),
        riptide_dispatcher::api::ApiOptions {
            allow_private_callbacks: true,
        },
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

async fn completions_of(dispatcher: &Dispatcher, field: &str, id: &str) -> usize {
    let mut conn = dispatcher.jobs.connection();
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(riptide_shared::keys::COMPLETIONS)
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    entries
        .ids
        .iter()
        .filter(|entry| entry.get::<String>(field).as_deref() == Some(id))
        .count()
}

const SECRET: &str = "webhook-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_over_two_workers_completes_once_and_its_webhook_survives_two_failures() {
    let ns = namespace("batch");
    let receiver = Receiver::start([127, 0, 0, 45], 2).await;
    let workers: Vec<InProcessWorker> = ["a", "b"]
        .iter()
        .map(|name| {
            let mut config = worker_config(&ns);
            config.worker.id = format!("{ns}-{name}");
            config.callbacks.secret = SECRET.into();
            InProcessWorker::start(config)
        })
        .collect();
    let base = api(&ns, Dispatcher::connect(&ns).await).await;
    let dispatcher = Dispatcher::connect(&ns).await;
    let http = reqwest::Client::new();
    let jobs: Vec<serde_json::Value> = (0..100)
        .map(|n| {
            serde_json::json!({
                "url": format!("https://{ns}.example/{n}"),
                "html": format!("<html><body><article><p>Batch page {n}, with a few words of text to extract.</p></article></body></html>"),
            })
        })
        .collect();
    let created: serde_json::Value = http
        .post(format!("{base}/v1/batches"))
        .json(&serde_json::json!({ "jobs": jobs, "callback_url": receiver.url }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["batch"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["jobs"].as_array().unwrap().len(), 100);

    let deadline = tokio::time::Instant::now() + FINISH;
    while !receiver.deliveries().iter().any(|d| d.answered == 200) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            receiver.deliveries()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Long enough for a duplicate delivery to show up, were there one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let deliveries = receiver.deliveries();
    assert_eq!(
        deliveries.iter().map(|d| d.answered).collect::<Vec<_>>(),
        [500, 500, 200],
        "retried until accepted, then never again"
    );
    let delivery_id = format!("batch:{id}:completed");
    for delivery in &deliveries {
        assert_eq!(
            delivery.delivery_id, delivery_id,
            "the same id on every retry"
        );
        assert!(
            signature_is_valid(SECRET, &delivery.signature, &delivery.body),
            "{delivery:?}"
        );
        assert!(!signature_is_valid(
            "another secret",
            &delivery.signature,
            &delivery.body
        ));
    }
    let body: serde_json::Value = serde_json::from_str(&deliveries[2].body).unwrap();
    assert_eq!(body["event"], "batch.completed");
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["counts"]["done"], 100);

    let status: serde_json::Value = http
        .get(format!("{base}/v1/batches/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "completed", "{status}");
    assert_eq!(status["counts"]["done"], 100, "{status}");
    assert_eq!(status["pending"], 0, "{status}");
    assert_eq!(completions_of(&dispatcher, "batch_id", &id).await, 1);
    for worker in workers {
        worker.stop().await;
    }
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_batch_completes_when_created_and_private_callbacks_are_refused() {
    let ns = namespace("empty-batch");
    let receiver = Receiver::start([127, 0, 0, 46], 0).await;
    let mut config = worker_config(&ns);
    config.callbacks.secret = SECRET.into();
    let worker = InProcessWorker::start(config);
    let base = api(&ns, Dispatcher::connect(&ns).await).await;
    let dispatcher = Dispatcher::connect(&ns).await;
    let http = reqwest::Client::new();
    let created: serde_json::Value = http
        .post(format!("{base}/v1/batches"))
        .json(&serde_json::json!({ "jobs": [], "callback_url": receiver.url }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["batch"]["state"], "completed", "{created}");
    let id = created["batch"]["id"].as_str().unwrap().to_string();
    let deadline = tokio::time::Instant::now() + FINISH;
    while receiver.deliveries().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no webhook");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(completions_of(&dispatcher, "batch_id", &id).await, 1);

    // A single job's end is delivered too.
    let single: serde_json::Value = http
        .post(format!("{base}/v1/jobs"))
        .json(&serde_json::json!({ "jobs": [{
            "url": format!("https://{ns}.example/single"),
            "html": "<html><body><article><p>One job with a webhook of its own.</p></article></body></html>",
            "callback_url": receiver.url,
        }] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job_id = single["jobs"][0]["id"].as_str().unwrap().to_string();
    let expected = format!("job:{job_id}:done");
    while !receiver
        .deliveries()
        .iter()
        .any(|d| d.delivery_id == expected)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            receiver.deliveries()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivery = receiver
        .deliveries()
        .into_iter()
        .find(|d| d.delivery_id == expected)
        .unwrap();
    assert!(signature_is_valid(
        SECRET,
        &delivery.signature,
        &delivery.body
    ));
    let body: serde_json::Value = serde_json::from_str(&delivery.body).unwrap();
    assert_eq!(
        (body["event"].as_str(), body["status"].as_str()),
        (Some("job.done"), Some("done"))
    );

    // The same idempotency key twice: one batch.
    let keyed = serde_json::json!({ "jobs": [], "idempotency_key": format!("k-{ns}") });
    let first: serde_json::Value = http
        .post(format!("{base}/v1/batches"))
        .json(&keyed)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second: serde_json::Value = http
        .post(format!("{base}/v1/batches"))
        .json(&keyed)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["batch"]["id"], second["batch"]["id"]);
    assert_eq!(second["batch"]["duplicate"], true);

    // Without allow_private_callbacks, a callback to loopback is refused.
    let guarded = riptide_dispatcher::api::router(
        Arc::new(Dispatcher::connect(&ns).await.broker),
        Arc::new(Dispatcher::connect(&ns).await.jobs),
        Arc::new(
            riptide_dispatcher::crawls::Crawls::connect(
                &riptide_shared::settings::RedisSettings::default(),
                &ns,
            )
            .await
            .unwrap(),
        ),
        riptide_dispatcher::api::ApiOptions::default(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let guarded_base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, guarded).await });
    let refused = http
        .post(format!("{guarded_base}/v1/jobs"))
        .json(&serde_json::json!({ "jobs": [{ "url": "https://example.com/", "callback_url": receiver.url }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("SSRF"));
    let oversized: Vec<serde_json::Value> = (0..1001)
        .map(|n| serde_json::json!({ "url": format!("https://example.com/{n}") }))
        .collect();
    let too_big = http
        .post(format!("{guarded_base}/v1/batches"))
        .json(&serde_json::json!({ "jobs": oversized }))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 400);
    worker.stop().await;
    dispatcher.delete_queues().await;
}

/// Sleeps until `offset_ms` past the next whole second, so tick counts do not straddle one.
async fn align_to_second(offset_ms: u64) {
    let now = now_ms();
    let wait = (1_000 - now % 1_000 + offset_ms) % 1_000;
    tokio::time::sleep(Duration::from_millis(wait.max(1))).await;
}

async fn deferred_count(dispatcher: &Dispatcher, ns: &str) -> u64 {
    let mut conn = dispatcher.jobs.connection();
    redis::cmd("ZCARD")
        .arg(riptide_shared::keys::deferred(ns))
        .query_async(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_every_second_fires_once_per_tick_and_once_after_an_outage() {
    use riptide_dispatcher::schedules::{Schedules, Target, Ticker};
    let ns = namespace("cron");
    let dispatcher = Dispatcher::connect(&ns).await;
    let crawls = Arc::new(
        riptide_dispatcher::crawls::Crawls::connect(
            &riptide_shared::settings::RedisSettings::default(),
            &ns,
        )
        .await
        .unwrap(),
    );
    let schedules = || Schedules::new(dispatcher.jobs.connection(), &ns);
    assert!(schedules()
        .add(
            "every second",
            Target::Jobs {
                urls: vec!["https://example.com/".into()],
                mode: "article".into(),
                tenant: None,
            }
        )
        .await
        .is_err());
    let added = schedules()
        .add(
            "* * * * * *",
            Target::Jobs {
                urls: vec![format!("https://{ns}.example/feed")],
                mode: "article".into(),
                tenant: None,
            },
        )
        .await
        .unwrap();
    // No worker and no promoter: each tick's job stays in the deferred set, to be counted.
    let start_ticker = |stop: tokio_util::sync::CancellationToken| {
        let ticker = Ticker {
            schedules: schedules(),
            crawls: crawls.clone(),
        };
        tokio::spawn(async move { ticker.run(stop).await })
    };
    // Two tickers, as two dispatchers would run: still one run per tick. A tick fires
    // within a ticker round (200 ms) after its second: count from .350 to .350.
    let stop = tokio_util::sync::CancellationToken::new();
    let tickers = [start_ticker(stop.clone()), start_ticker(stop.clone())];
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    align_to_second(350).await;
    let before = deferred_count(&dispatcher, &ns).await;
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    let steady = deferred_count(&dispatcher, &ns).await - before;
    assert_eq!(steady, 3, "three ticks in three seconds");

    stop.cancel();
    for ticker in tickers {
        ticker.await.unwrap();
    }
    let before_outage = deferred_count(&dispatcher, &ns).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    align_to_second(100).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let ticker = start_ticker(stop.clone());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        deferred_count(&dispatcher, &ns).await - before_outage,
        1,
        "the missed ticks run once, not once each"
    );
    let listed = schedules().list().await.unwrap();
    let mine = listed
        .iter()
        .find(|l| l.schedule.id == added.schedule.id)
        .unwrap();
    assert!(mine.next_run_ms.unwrap() > now_ms());
    assert!(schedules().remove(&added.schedule.id).await.unwrap());
    assert!(!schedules().remove(&added.schedule.id).await.unwrap());
    stop.cancel();
    ticker.await.unwrap();
    let mut conn = dispatcher.jobs.connection();
    redis::cmd("DEL")
        .arg(riptide_shared::keys::deferred(&ns))
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_webhook_example_batches_schedules_cancels_and_verifies_its_webhook() {
    let ns = namespace("python-webhooks");
    let mut config = worker_config(&ns);
    config.callbacks.secret = SECRET.into();
    let worker = InProcessWorker::start(config);
    let base = api(&ns, Dispatcher::connect(&ns).await).await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/webhooks.py");
    let output = tokio::process::Command::new("python3")
        .arg(script)
        .args([
            "--api",
            &base,
            "--secret",
            SECRET,
            "--listen",
            "127.0.0.47",
            "--timeout",
            "60",
        ])
        .output()
        .await
        .expect("python3");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "webhooks.py failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("webhook verified: batch.completed"),
        "{stdout}"
    );
    assert!(stdout.contains("'status': 'cancelled'"), "{stdout}");
    worker.stop().await;
    Dispatcher::connect(&ns).await.delete_queues().await;
}
