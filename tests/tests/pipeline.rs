//! The queue pipeline end to end: real RabbitMQ, Redis, component and worker code; a local
//! web server for the pages.

use std::time::Duration;

use lapin::options::BasicPublishOptions;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use riptide_e2e::{corpus, namespace, worker_config, Dispatcher, InProcessWorker, WebServer};
use riptide_extractor::ExtractionMode;
use riptide_shared::job::{Job, JobKind};
use riptide_shared::settings::BrokerSettings;

const FINISH: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_and_inline_jobs_succeed() {
    let ns = namespace("success");
    let web = WebServer::start().await;
    let worker = InProcessWorker::start(worker_config(&ns));
    let dispatcher = Dispatcher::connect(&ns).await;

    let page = corpus::page("4219d096");
    let url_job = Job::new(
        JobKind::Url,
        web.url("/page/4219d096"),
        None,
        &ExtractionMode::Article,
    );
    let html_job = Job::new(
        JobKind::Html,
        format!("https://{ns}.example/inline"),
        Some(page.html.clone()),
        &ExtractionMode::Article,
    );
    dispatcher.submit(&url_job).await;
    dispatcher.submit(&html_job).await;

    for job in [&url_job, &html_job] {
        let view = dispatcher.wait_finished(&job.id, FINISH).await;
        assert_eq!(view.status.as_deref(), Some("done"), "{view:?}");
        let result = view.result.expect("a stored result");
        assert_eq!(result["extractor"], "wasm");
        assert!(result["content"]["title"]
            .as_str()
            .unwrap()
            .contains("Pear Jam"));
        assert!(result["content"]["word_count"].as_u64().unwrap() > 300);
    }
    worker.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_is_dead_lettered_without_retry() {
    let ns = namespace("notfound");
    let web = WebServer::start().await;
    let worker = InProcessWorker::start(worker_config(&ns));
    let dispatcher = Dispatcher::connect(&ns).await;

    let job = Job::new(
        JobKind::Url,
        web.url("/missing"),
        None,
        &ExtractionMode::Article,
    );
    dispatcher.submit(&job).await;
    let view = dispatcher.wait_finished(&job.id, FINISH).await;
    assert_eq!(view.status.as_deref(), Some("dead"));
    assert_eq!(view.attempts, Some(1), "no retry for a 404");
    assert!(view.error.unwrap().contains("404"));

    let letters = dispatcher.broker.dead_letters(10).await.unwrap();
    let letter = letters
        .iter()
        .find(|l| l.id.as_deref() == Some(&job.id))
        .expect("in the dead-letter queue");
    assert_eq!(letter.reason.as_deref(), Some("fetch"));
    assert_eq!(letter.attempts, Some(1));
    assert!(letter.last_error.as_deref().unwrap().contains("404"));
    assert_eq!(
        letter.worker.as_deref(),
        Some(format!("{ns}-worker").as_str())
    );
    worker.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_that_recovers_succeeds_after_retries() {
    let ns = namespace("flaky");
    let web = WebServer::start().await;
    let worker = InProcessWorker::start(worker_config(&ns));
    let dispatcher = Dispatcher::connect(&ns).await;

    let job = Job::new(
        JobKind::Url,
        web.url(&format!("/flaky/2/{ns}")),
        None,
        &ExtractionMode::Article,
    );
    dispatcher.submit(&job).await;
    let view = dispatcher.wait_finished(&job.id, FINISH).await;
    assert_eq!(view.status.as_deref(), Some("done"), "{view:?}");
    assert_eq!(view.attempts, Some(3), "two 503s, then success");
    assert_eq!(web.hits(&ns), 3);
    worker.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_message_is_dead_lettered_with_its_reason() {
    let ns = namespace("poison");
    let worker = InProcessWorker::start(worker_config(&ns));
    let dispatcher = Dispatcher::connect(&ns).await;
    dispatcher.broker.queue_depths().await.unwrap();

    let settings = BrokerSettings {
        namespace: ns.clone(),
        ..BrokerSettings::default()
    };
    let connection = Connection::connect(&settings.url, ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .basic_publish(
            "".into(),
            settings.topology().jobs().as_str().into(),
            BasicPublishOptions::default(),
            b"{not messagepack at all",
            BasicProperties::default(),
        )
        .await
        .unwrap()
        .await
        .unwrap();

    let deadline = tokio::time::Instant::now() + FINISH;
    let letter = loop {
        let letters = dispatcher.broker.dead_letters(10).await.unwrap();
        if let Some(letter) = letters
            .into_iter()
            .find(|l| l.reason.as_deref() == Some("undecodable"))
        {
            break letter;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no dead letter for the poison message"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(letter.last_error.unwrap().contains("MessagePack"));
    let depths = dispatcher.broker.queue_depths().await.unwrap();
    assert_eq!(
        depths[0],
        (settings.topology().jobs(), 0),
        "the poison message left the jobs queue"
    );
    connection.close(200, "done".into()).await.unwrap();
    worker.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_address_is_refused() {
    let ns = namespace("ssrf");
    let web = WebServer::start().await;
    let mut config = worker_config(&ns);
    config.fetch.allow_private_networks = false;
    let worker = InProcessWorker::start(config);
    let dispatcher = Dispatcher::connect(&ns).await;

    let job = Job::new(
        JobKind::Url,
        web.url("/page/4219d096"),
        None,
        &ExtractionMode::Article,
    );
    dispatcher.submit(&job).await;
    let view = dispatcher.wait_finished(&job.id, FINISH).await;
    assert_eq!(view.status.as_deref(), Some("dead"));
    assert_eq!(view.attempts, Some(1));
    assert!(view.error.unwrap().contains("SSRF"));
    worker.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_within_the_window_are_processed_once() {
    let ns = namespace("dedup");
    let worker = InProcessWorker::start(worker_config(&ns));
    let dispatcher = Dispatcher::connect(&ns).await;

    let html = "<html><body><article><p>Deduplicated page with enough words to extract as an article body.</p></article></body></html>";
    let first = Job::new(
        JobKind::Html,
        format!("https://{ns}.example/a"),
        Some(html.into()),
        &ExtractionMode::Article,
    );
    let second = Job::new(
        JobKind::Html,
        format!("https://{ns}.example/a"),
        Some(html.into()),
        &ExtractionMode::Article,
    );
    let a = dispatcher.submit(&first).await;
    let b = dispatcher.submit(&second).await;
    assert!(!a.duplicate);
    assert!(b.duplicate, "same page, same mode, within the window");
    assert_eq!(
        b.id, first.id,
        "the duplicate answers with the first job's id"
    );

    let view = dispatcher.wait_finished(&first.id, FINISH).await;
    assert_eq!(view.status.as_deref(), Some("done"));
    assert!(
        dispatcher.jobs.view(&second.id).await.unwrap().is_none(),
        "the duplicate was never queued"
    );
    let depths = dispatcher.broker.queue_depths().await.unwrap();
    assert!(depths.iter().all(|(_, depth)| *depth == 0), "{depths:?}");

    let other_mode = Job::new(
        JobKind::Html,
        format!("https://{ns}.example/a"),
        Some(html.into()),
        &ExtractionMode::Full,
    );
    assert!(
        !dispatcher.submit(&other_mode).await.duplicate,
        "another mode is another job"
    );
    worker.stop().await;
    dispatcher.delete_queues().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_example_producer_publishes_jobs_workers_run() {
    let ns = namespace("python");
    let worker = InProcessWorker::start(worker_config(&ns));
    let dispatcher = Dispatcher::connect(&ns).await;
    dispatcher.broker.queue_depths().await.unwrap();

    let page = corpus::dir().join("html");
    let html = std::fs::read_dir(&page)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let unpacked = std::env::temp_dir().join(format!("{ns}.html"));
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(html).unwrap()),
        &mut bytes,
    )
    .unwrap();
    std::fs::write(&unpacked, bytes).unwrap();

    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/producer.py");
    let output = tokio::process::Command::new("python3")
        .arg(script)
        .arg(format!("https://{ns}.example/python"))
        .args([
            "--html",
            unpacked.to_str().unwrap(),
            "--namespace",
            &ns,
            "--wait",
            "--timeout",
            "60",
        ])
        .output()
        .await
        .expect("python3");
    assert!(
        output.status.success(),
        "producer failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["status"], "done", "{stdout}");
    assert!(last["result"]["content"]["word_count"].as_u64().unwrap() > 100);
    worker.stop().await;
    dispatcher.delete_queues().await;
}
