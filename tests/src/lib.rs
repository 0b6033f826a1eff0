//! The end-to-end harness: a local web server serving corpus pages (and failing on cue),
//! workers running the real pipeline (in this process, or as a child process that a test
//! can SIGKILL), and the dispatcher's own submission code, all against the RabbitMQ and
//! Redis on this machine. Each test gets its own queue namespace.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use riptide_dispatcher::broker::Broker;
use riptide_dispatcher::jobs::{JobView, Jobs};
use riptide_shared::job::Job;
use riptide_shared::settings::{BrokerSettings, RedisSettings};
use riptide_worker::config::WorkerConfig;
use riptide_worker::sandbox::{Sandbox, SandboxConfig};
use tokio_util::sync::CancellationToken;

/// How much closer than a host's delay two requests may arrive at a test site. Politeness
/// spaces fetch *starts* on Redis's clock; a request then reaches the site after Redis's
/// reply, the worker's scheduling and the loopback connection, which on a loaded 2-core
/// machine running several crawls at once vary by tens of milliseconds (15 ms has been
/// seen), so two arrivals can be that much closer than the starts were.
pub const ARRIVAL_JITTER: Duration = Duration::from_millis(50);

#[path = "../../guest-extractor/tests/corpus/mod.rs"]
pub mod corpus;

/// A namespace of queues no other test uses. Checks first that RabbitMQ and Redis are up,
/// so that a missing service fails with the fix rather than with a timeout.
pub fn namespace(test: &str) -> String {
    require_services();
    static RUN: OnceLock<u128> = OnceLock::new();
    let run = RUN.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    });
    format!("e2e-{run}-{test}")
}

/// Deletes a namespace's queues, so test runs leave nothing behind on the broker (every
/// quorum queue left over is a Raft group the broker keeps running and recovers at start).
pub async fn delete_queues(namespace: &str) {
    let broker = Broker::new(&BrokerSettings {
        namespace: namespace.to_string(),
        ..BrokerSettings::default()
    });
    broker
        .delete_queues()
        .await
        .expect("deleting the test queues");
    broker.close().await;
}

fn require_services() {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        for (name, port) in [("RabbitMQ", 5672), ("Redis", 6379)] {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            if std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err() {
                panic!(
                    "{name} is not reachable on {addr}: run ops/services.sh (or ops/test.sh, which \
                     does all set-up) and try again"
                );
            }
        }
    });
}

#[path = "../../worker/tests/common/mod.rs"]
mod common;
pub use common::component_path;

/// Worker configuration for a test: its namespace, private addresses allowed (the test web
/// server is on loopback), a small pool, an ephemeral health port.
pub fn worker_config(namespace: &str) -> WorkerConfig {
    let mut config = WorkerConfig::default();
    config.broker.namespace = namespace.to_string();
    config.fetch.allow_private_networks = true;
    config.fetch.timeout_ms = 5_000;
    config.wasm.component_path = component_path();
    config.wasm.max_instances = 2;
    warm_aot_cache(&config.wasm);
    config.worker.listen = "127.0.0.1:0".into();
    config.worker.id = format!("{namespace}-worker");
    config.worker.drain_timeout_secs = 20;
    // Test sites serve several pages each; politeness is tested with its own delays.
    config.politeness.delay_ms = 10;
    config
}

/// Compiles the component into the shared AOT cache once per test process, before any
/// worker starts. Workers started together would otherwise all miss the cache and compile
/// at once (seconds of CPU each), and a test timing its crawl would measure that.
fn warm_aot_cache(config: &SandboxConfig) {
    static WARM: OnceLock<()> = OnceLock::new();
    WARM.get_or_init(|| {
        Sandbox::new(config.clone()).expect("the extractor component loads");
    });
}

/// A worker running the real pipeline inside this process.
pub struct InProcessWorker {
    shutdown: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl InProcessWorker {
    pub fn start(config: WorkerConfig) -> Self {
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(riptide_worker::server::run(config, shutdown.clone()));
        Self { shutdown, handle }
    }

    /// Drains and stops, as on SIGTERM.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.handle
            .await
            .expect("worker task")
            .expect("worker exits cleanly");
    }
}

/// The dispatcher's submission path for a namespace.
pub struct Dispatcher {
    pub broker: Broker,
    pub jobs: Jobs,
}

impl Dispatcher {
    pub async fn connect(namespace: &str) -> Self {
        let broker = BrokerSettings {
            namespace: namespace.to_string(),
            ..BrokerSettings::default()
        };
        Self {
            broker: Broker::new(&broker),
            jobs: Jobs::connect(&RedisSettings::default())
                .await
                .expect("Redis on 127.0.0.1:6379"),
        }
    }

    pub async fn submit(&self, job: &Job) -> riptide_dispatcher::jobs::Submitted {
        self.jobs.submit(&self.broker, job).await.expect("submit")
    }

    /// Deletes the namespace's queues (see [`delete_queues`]).
    pub async fn delete_queues(&self) {
        self.broker
            .delete_queues()
            .await
            .expect("deleting the test queues");
    }

    /// Follows the completion stream from `cursor` until every job in `ids` finished, then
    /// checks each is `done` with a stored result.
    pub async fn assert_all_done(&self, cursor: String, ids: &[String]) {
        let pending: HashSet<String> = ids.iter().cloned().collect();
        let unfinished = self
            .jobs
            .wait(cursor, pending, Duration::from_secs(300), |_, _| {})
            .await
            .expect("Redis");
        assert!(
            unfinished.is_empty(),
            "{} jobs never finished",
            unfinished.len()
        );
        for id in ids {
            let view = self
                .jobs
                .view(id)
                .await
                .expect("Redis")
                .expect("job in Redis");
            assert_eq!(view.status.as_deref(), Some("done"), "{id}: {view:?}");
            assert!(view.result.is_some(), "{id} is done without a result");
        }
    }

    /// Polls until the job is `done` or `dead`, or `timeout` passes.
    pub async fn wait_finished(&self, id: &str, timeout: Duration) -> JobView {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // A job published straight to the queue is known once a worker has taken it.
            let view = self.jobs.view(id).await.expect("Redis");
            let past = tokio::time::Instant::now() > deadline;
            match view {
                Some(view)
                    if past || matches!(view.status.as_deref(), Some("done") | Some("dead")) =>
                {
                    return view
                }
                None if past => panic!("{id} is still unknown after {timeout:?}"),
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
}

/// A web server on loopback: `/page/{id}` serves a corpus page, `/missing` is 404,
/// `/flaky/{n}/{key}` answers 503 to the first `n` requests per key then a page,
/// `/image` is a PNG.
pub struct WebServer {
    pub addr: SocketAddr,
    hits: Arc<Mutex<HashMap<String, u32>>>,
}

#[derive(Clone)]
struct Site {
    pages: Arc<HashMap<String, String>>,
    hits: Arc<Mutex<HashMap<String, u32>>>,
}

impl WebServer {
    pub async fn start() -> Self {
        let pages: HashMap<String, String> = corpus::all()
            .into_iter()
            .map(|p| (p.id[..8].to_string(), p.html))
            .collect();
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let site = Site {
            pages: Arc::new(pages),
            hits: hits.clone(),
        };
        let app = Router::new()
            .route("/page/{id}", get(page))
            .route(
                "/missing",
                get(|| async { (StatusCode::NOT_FOUND, "no such page") }),
            )
            .route("/flaky/{n}/{key}", get(flaky))
            .route(
                "/image",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "image/png")],
                        vec![0x89u8, b'P', b'N', b'G'],
                    )
                }),
            )
            .with_state(site);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, hits }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Requests seen for a flaky key.
    pub fn hits(&self, key: &str) -> u32 {
        self.hits.lock().unwrap().get(key).copied().unwrap_or(0)
    }
}

async fn page(State(site): State<Site>, Path(id): Path<String>) -> Response {
    match site.pages.get(&id) {
        Some(html) => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "unknown page").into_response(),
    }
}

async fn flaky(State(site): State<Site>, Path((n, key)): Path<(u32, String)>) -> Response {
    let seen = {
        let mut hits = site.hits.lock().unwrap();
        let count = hits.entry(key).or_insert(0);
        *count += 1;
        *count
    };
    if seen <= n {
        return (StatusCode::SERVICE_UNAVAILABLE, "try later").into_response();
    }
    let html = site.pages.values().next().cloned().unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/html")], html).into_response()
}

/// A site of its own on a loopback address (127.0.0.2, 127.0.0.3, ... stand for different
/// hosts): fixed answers by path (and query), 404 for anything else, every request recorded
/// with the time it arrived. `{origin}` in an answer's body stands for the site's own
/// `http://address:port`, which is known only once it listens.
pub struct TestSite {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<(String, std::time::Instant)>>>,
    /// Requests being answered now, and the most there ever were at once.
    in_flight: Arc<Mutex<(usize, usize)>>,
}

/// One answer of a [`TestSite`].
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    /// Extra response headers.
    pub headers: Vec<(&'static str, String)>,
    /// How long the site takes to answer.
    pub latency: Duration,
}

impl Answer {
    pub fn html(body: impl Into<String>) -> Self {
        Self {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: body.into(),
            headers: Vec::new(),
            latency: Duration::ZERO,
        }
    }

    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type: "text/plain",
            body: body.into(),
            headers: Vec::new(),
            latency: Duration::ZERO,
        }
    }

    pub fn xml(body: impl Into<String>) -> Self {
        Self {
            content_type: "application/xml",
            ..Self::text(200, body)
        }
    }

    pub fn slow(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

impl TestSite {
    pub async fn start(ip: [u8; 4], answers: Vec<(&str, Answer)>) -> Self {
        let answers: Arc<HashMap<String, Answer>> = Arc::new(
            answers
                .into_iter()
                .map(|(path, answer)| (path.to_string(), answer))
                .collect(),
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(Mutex::new((0, 0)));
        let listener = tokio::net::TcpListener::bind(SocketAddr::from((ip, 0)))
            .await
            .unwrap_or_else(|e| panic!("binding {ip:?}: {e}"));
        let addr = listener.local_addr().unwrap();
        let origin = Arc::new(format!("http://{addr}"));
        let recorded = requests.clone();
        let counted = in_flight.clone();
        let app = Router::new().fallback(move |uri: axum::http::Uri| {
            let answers = answers.clone();
            let recorded = recorded.clone();
            let counted = counted.clone();
            let origin = origin.clone();
            async move {
                let path = uri
                    .path_and_query()
                    .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string());
                recorded
                    .lock()
                    .unwrap()
                    .push((path.clone(), std::time::Instant::now()));
                {
                    let mut counts = counted.lock().unwrap();
                    counts.0 += 1;
                    counts.1 = counts.1.max(counts.0);
                }
                let response = match answers.get(&path) {
                    Some(answer) => {
                        tokio::time::sleep(answer.latency).await;
                        let mut response = (
                            StatusCode::from_u16(answer.status).unwrap(),
                            [(header::CONTENT_TYPE, answer.content_type)],
                            answer.body.replace("{origin}", &origin),
                        )
                            .into_response();
                        for (name, value) in &answer.headers {
                            response.headers_mut().insert(*name, value.parse().unwrap());
                        }
                        response
                    }
                    None => (StatusCode::NOT_FOUND, "no such page").into_response(),
                };
                counted.lock().unwrap().0 -= 1;
                response
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            addr,
            requests,
            in_flight,
        }
    }

    /// The most requests that were ever being answered at once.
    pub fn max_in_flight(&self) -> usize {
        self.in_flight.lock().unwrap().1
    }

    /// Times between consecutive request arrivals, in order.
    pub fn gaps(&self) -> Vec<Duration> {
        let mut times: Vec<_> = self.requests().into_iter().map(|(_, at)| at).collect();
        times.sort();
        times.windows(2).map(|w| w[1] - w[0]).collect()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request so far: path (with query) and arrival time.
    pub fn requests(&self) -> Vec<(String, std::time::Instant)> {
        self.requests.lock().unwrap().clone()
    }

    /// How many requests asked for `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .count()
    }
}
