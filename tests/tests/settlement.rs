//! Every job settled exactly once, against the real broker and Redis: a successor that no
//! queue takes sends the original back instead of losing it, a stale copy of a finished job
//! changes nothing, terminal statuses hold, replayed dead letters run again, and queues
//! declared by an older release are migrated with their messages.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Connection, ConnectionProperties};
use riptide_e2e::{namespace, worker_config, Dispatcher, InProcessWorker, WebServer};
use riptide_extractor::ExtractionMode;
use riptide_shared::job::{Job, JobKind, Status};
use riptide_shared::publish::Publisher;
use riptide_shared::settings::{BrokerSettings, RedisSettings};
use riptide_shared::state::Transition;
use riptide_shared::topology::Topology;
use riptide_worker::consume::{Handler, Listener};
use riptide_worker::store::Store;
use tokio_util::sync::CancellationToken;

const FINISH: Duration = Duration::from_secs(60);

fn inline(ns: &str, html: &str) -> Job {
    Job::new(
        JobKind::Html,
        format!("https://{ns}.example/"),
        Some(html.to_string()),
        &ExtractionMode::Article,
    )
}

const PAGE: &str = "<html><head><title>Settled</title></head><body><article><p>One page of text, settled exactly once by the worker.</p></article></body></html>";

async fn connect() -> Connection {
    Connection::connect(
        &BrokerSettings::default().url,
        ConnectionProperties::default(),
    )
    .await
    .expect("RabbitMQ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_to_a_deleted_queue_sends_the_job_back_instead_of_losing_it() {
    let ns = namespace("deleted-retry");
    let web = WebServer::start().await;
    let worker = InProcessWorker::start(worker_config(&ns));
    let dispatcher = Dispatcher::connect(&ns).await;
    // The worker is consuming once it finished a job.
    let warm = inline(&ns, PAGE);
    dispatcher.submit(&warm).await;
    assert_eq!(
        dispatcher
            .wait_finished(&warm.id, FINISH)
            .await
            .status
            .as_deref(),
        Some("done")
    );

    let connection = connect().await;
    let channel = connection.create_channel().await.unwrap();
    let retry = Topology::new(&ns).retry(Duration::from_secs(1));
    channel
        .queue_delete(retry.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    // The first fetch answers 503, so the worker publishes a retry copy to the deleted
    // queue. The broker returns it as unroutable: the delivery goes back to the jobs queue
    // and the next delivery fetches the page.
    let flaky = Job::new(
        JobKind::Url,
        web.url(&format!("/flaky/1/{ns}")),
        None,
        &ExtractionMode::Article,
    );
    dispatcher.submit(&flaky).await;
    let view = dispatcher.wait_finished(&flaky.id, FINISH).await;
    assert_eq!(view.status.as_deref(), Some("done"), "{view:?}");
    assert_eq!(web.hits(&ns), 2);

    connection.close(200, "done".into()).await.unwrap();
    worker.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_copy_of_a_done_job_leaves_its_result_untouched() {
    let ns = namespace("stale-copy");
    let web = WebServer::start().await;
    let worker = InProcessWorker::start(worker_config(&ns));
    let dispatcher = Dispatcher::connect(&ns).await;

    let job = inline(&ns, PAGE);
    dispatcher.submit(&job).await;
    let done = dispatcher.wait_finished(&job.id, FINISH).await;
    assert_eq!(done.status.as_deref(), Some("done"));

    // The same id again, now pointing at a page that would be dead-lettered.
    let mut stale = job.clone();
    stale.kind = JobKind::Url;
    stale.html = None;
    stale.url = web.url("/missing");
    dispatcher.broker.publish(&stale).await.unwrap();
    // A job published after it is finished only once the copy was taken off the queue.
    let after = inline(&ns, &PAGE.replace("Settled", "After"));
    dispatcher.submit(&after).await;
    dispatcher.wait_finished(&after.id, FINISH).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let now = dispatcher.jobs.view(&job.id).await.unwrap().unwrap();
    assert_eq!(now.status.as_deref(), Some("done"));
    assert_eq!(now.result, done.result, "the stored result did not change");
    let depths = dispatcher.broker.queue_depths().await.unwrap();
    assert!(
        depths.iter().all(|(_, depth)| *depth == 0),
        "the copy was acked without work, not dead-lettered: {depths:?}"
    );
    worker.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test]
async fn terminal_statuses_refuse_every_later_transition() {
    let ns = namespace("terminal");
    let store = Store::connect(&RedisSettings::default(), &ns)
        .await
        .unwrap();
    let job = inline("terminal", PAGE);
    assert_eq!(store.begin(&job, "w1").await.unwrap(), Transition::Applied);
    assert_eq!(
        store
            .finish(&job, Status::Dead, 1, "fetch: HTTP 404", "w1", "dead:fetch")
            .await
            .unwrap(),
        Transition::Applied
    );
    assert_eq!(
        store.begin(&job, "w2").await.unwrap(),
        Transition::Refused(Some(Status::Dead))
    );
    assert_eq!(
        store
            .finish(&job, Status::Failed, 2, "later", "w2", "")
            .await
            .unwrap(),
        Transition::Refused(Some(Status::Dead))
    );
    let jobs = riptide_dispatcher::jobs::Jobs::connect(&RedisSettings::default())
        .await
        .unwrap();
    assert_eq!(
        jobs.reopen_dead(&job.id).await.unwrap(),
        Transition::Applied
    );
    assert_eq!(
        jobs.reopen_dead(&job.id).await.unwrap(),
        Transition::Refused(Some(Status::Queued)),
        "only a dead job can be reopened"
    );
    let view = jobs.view(&job.id).await.unwrap().unwrap();
    assert_eq!(view.status.as_deref(), Some("queued"));
    assert_eq!(view.attempts, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_selected_dead_letters_runs_them_again_and_keeps_the_others() {
    let ns = namespace("replay");
    let worker = InProcessWorker::start(worker_config(&ns));
    let dispatcher = Dispatcher::connect(&ns).await;
    // Empty pages are invalid HTML: dead-lettered on every run.
    let jobs: Vec<Job> = (0..3).map(|n| inline(&format!("{ns}-{n}"), "")).collect();
    for job in &jobs {
        dispatcher.submit(job).await;
    }
    for job in &jobs {
        let view = dispatcher.wait_finished(&job.id, FINISH).await;
        assert_eq!(view.status.as_deref(), Some("dead"));
    }
    let dead_count = || async {
        dispatcher
            .broker
            .queue_depths()
            .await
            .unwrap()
            .last()
            .unwrap()
            .1
    };
    assert_eq!(dead_count().await, 3);

    let replayed = dispatcher
        .broker
        .replay(&dispatcher.jobs, &[jobs[1].id.clone()])
        .await
        .unwrap();
    assert_eq!(replayed, [jobs[1].id.clone()]);
    // The replayed job runs again (its status was reopened, so the worker does not take it
    // for a stale copy) and is dead-lettered again; the others stayed.
    let deadline = tokio::time::Instant::now() + FINISH;
    while dead_count().await < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the replayed job never ran"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let letters = dispatcher.broker.dead_letters(10).await.unwrap();
    let mut ids: Vec<_> = letters.into_iter().filter_map(|l| l.id).collect();
    ids.sort();
    let mut expected: Vec<_> = jobs.iter().map(|j| j.id.clone()).collect();
    expected.sort();
    assert_eq!(ids, expected);
    worker.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test]
async fn queues_of_an_older_release_are_migrated_with_their_messages() {
    let ns = namespace("migrate");
    let topology = Topology::new(&ns);
    let connection = connect().await;
    let publisher = Publisher::open(&connection).await.unwrap();
    // The previous release: classic retry tiers, a dead-letter queue without limits, a
    // jobs queue without at-least-once dead-lettering.
    let old = |queue: &str| {
        let mut args = FieldTable::default();
        if queue == topology.jobs() || queue == topology.dead() {
            args.insert(
                "x-queue-type".into(),
                AMQPValue::LongString("quorum".into()),
            );
        }
        if queue.contains(".retry.") {
            args.insert("x-message-ttl".into(), AMQPValue::LongLongInt(3_600_000));
        }
        args
    };
    for queue in topology.all() {
        publisher
            .channel()
            .queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions::durable(),
                old(&queue),
            )
            .await
            .unwrap();
        for n in 0..3 {
            publisher
                .publish(
                    &queue,
                    format!("{queue} {n}").as_bytes(),
                    Default::default(),
                )
                .await
                .unwrap();
        }
    }
    let dispatcher = Dispatcher::connect(&ns).await;
    let migrated = dispatcher.broker.migrate_queues().await.unwrap();
    assert_eq!(migrated, topology.all());

    let channel = connection.create_channel().await.unwrap();
    topology
        .declare(&channel)
        .await
        .expect("the current topology declares cleanly after the migration");
    // Retry messages may already have expired into the jobs queue: count them all.
    let depths = dispatcher.broker.queue_depths().await.unwrap();
    let total: u32 = depths.iter().map(|(_, depth)| depth).sum();
    assert_eq!(total, 3 * 6, "every message kept: {depths:?}");
    assert_eq!(depths.last().unwrap(), &(topology.dead(), 3));
    assert!(
        dispatcher.broker.migrate_queues().await.unwrap().is_empty(),
        "a second run has nothing to do"
    );
    connection.close(200, "done".into()).await.unwrap();
    dispatcher.delete_queues().await;
}

/// A handler that panics on a message's first delivery and acks it on the next, or that
/// works until shutdown aborts it.
struct Scripted {
    seen: AtomicUsize,
    hang: bool,
}

impl Handler for Scripted {
    async fn handle(&self, delivery: &Delivery, _publisher: &Publisher, abort: &CancellationToken) {
        let seen = self.seen.fetch_add(1, Ordering::SeqCst);
        if self.hang {
            abort.cancelled().await;
            return;
        }
        if seen == 0 {
            panic!("a bug in the handler");
        }
        delivery.ack(BasicAckOptions::default()).await.unwrap();
    }
}

type Running = (
    Dispatcher,
    Arc<Listener<Scripted>>,
    CancellationToken,
    tokio::task::JoinHandle<()>,
);

/// One job queued and a listener with a scripted handler consuming it.
async fn listen(ns: &str, hang: bool) -> Running {
    let dispatcher = Dispatcher::connect(ns).await;
    dispatcher.broker.publish(&inline(ns, PAGE)).await.unwrap();
    let listener = Arc::new(Listener {
        broker: BrokerSettings {
            namespace: ns.to_string(),
            ..BrokerSettings::default()
        },
        consumer_tag: format!("{ns}-listener"),
        prefetch: 1,
        drain_timeout: Duration::from_secs(1),
        readiness: Default::default(),
        in_flight: Default::default(),
        handler: Arc::new(Scripted {
            seen: Default::default(),
            hang,
        }),
    });
    let shutdown = CancellationToken::new();
    let running = tokio::spawn({
        let listener = listener.clone();
        let shutdown = shutdown.clone();
        async move { listener.run(shutdown).await }
    });
    (dispatcher, listener, shutdown, running)
}

fn deliveries_seen(listener: &Listener<Scripted>) -> usize {
    listener.handler.seen.load(Ordering::SeqCst)
}

async fn jobs_depth(dispatcher: &Dispatcher) -> u32 {
    dispatcher.broker.queue_depths().await.unwrap()[0].1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_job_task_returns_its_delivery_to_the_queue() {
    let ns = namespace("panic");
    let (dispatcher, listener, shutdown, running) = listen(&ns, false).await;
    let deadline = tokio::time::Instant::now() + FINISH;
    while deliveries_seen(&listener) < 2 {
        assert!(tokio::time::Instant::now() < deadline, "never redelivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    running.await.unwrap();
    assert_eq!(
        jobs_depth(&dispatcher).await,
        0,
        "acked on the second delivery"
    );
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_jobs_past_the_drain_timeout_and_requeues_them() {
    let ns = namespace("abort");
    let (dispatcher, listener, shutdown, running) = listen(&ns, true).await;
    while deliveries_seen(&listener) == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the listener stops after the drain timeout")
        .unwrap();
    assert_eq!(listener.in_flight.load(Ordering::SeqCst), 0);
    // The broker requeues a closed channel's unacknowledged delivery on its own time (a
    // quorum queue through its log), so the queue is watched for it, not read once.
    let deadline = tokio::time::Instant::now() + FINISH;
    while jobs_depth(&dispatcher).await != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job is back in the queue"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    dispatcher.delete_queues().await;
}
