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
        dispatcher.jobs.cancel(&job.id).await.unwrap(),
        Cancellation::Cancelled
    );
    let view = dispatcher.jobs.view(&job.id).await.unwrap().unwrap();
    assert_eq!(view.status.as_deref(), Some("cancelled"), "{view:?}");
    assert_eq!(
        dispatcher.jobs.cancel(&job.id).await.unwrap(),
        Cancellation::AlreadyFinished {
            status: "cancelled".into()
        },
        "cancelling again changes nothing"
    );
    assert_eq!(
        dispatcher.jobs.cancel("no-such-job").await.unwrap(),
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
        dispatcher.jobs.cancel(&slow.id).await.unwrap(),
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
        dispatcher.jobs.cancel(&slow.id).await.unwrap(),
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
        dispatcher.jobs.cancel(&quick.id).await.unwrap(),
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
