//! Cancellation of running jobs, wherever they run: the dispatcher marks a job (or its
//! crawl) cancelled in Redis, and every worker watches the jobs it is running. A job found
//! cancelled has its token cancelled: its fetch is dropped and its guest stopped at the
//! sandbox's next check (every [`crate::sandbox::FUEL_PER_CHECK`] units of fuel, about a
//! millisecond), so it ends within a second of the cancel.
//!
//! Watching is a poll of the worker's own running jobs (one pipelined read every
//! [`WATCH_EVERY`], only while jobs run) rather than a pub/sub subscription: nothing is
//! missed while Redis reconnects, and a job cancelled before it started is refused at its
//! claim (`state::transition` to `processing`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use redis::aio::ConnectionManager;
use riptide_shared::frontier;
use riptide_shared::keys::{self, field};
use tokio_util::sync::CancellationToken;

/// How often running jobs are checked for cancellation.
pub const WATCH_EVERY: Duration = Duration::from_millis(200);

/// The jobs this worker runs, each with the token that stops it.
pub struct Cancellations {
    redis: ConnectionManager,
    running: Mutex<HashMap<String, Running>>,
}

struct Running {
    token: CancellationToken,
    crawl: Option<String>,
}

/// A job being watched; it stops being watched when this is dropped.
pub struct Watched<'a> {
    cancellations: &'a Cancellations,
    id: String,
    token: CancellationToken,
}

impl Watched<'_> {
    /// Cancelled when the job (or its crawl) is.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }
}

impl Drop for Watched<'_> {
    fn drop(&mut self) {
        self.cancellations.lock().remove(&self.id);
    }
}

impl Cancellations {
    pub fn new(redis: ConnectionManager) -> Self {
        Self {
            redis,
            running: Mutex::new(HashMap::new()),
        }
    }

    /// Watches job `id` (of crawl `crawl`, if any) while the returned guard lives.
    pub fn watch(&self, id: &str, crawl: Option<&str>) -> Watched<'_> {
        let token = CancellationToken::new();
        self.lock().insert(
            id.to_string(),
            Running {
                token: token.clone(),
                crawl: crawl.map(str::to_string),
            },
        );
        Watched {
            cancellations: self,
            id: id.to_string(),
            token,
        }
    }

    /// Checks the running jobs every [`WATCH_EVERY`] until `shutdown`.
    pub async fn run(&self, shutdown: CancellationToken) {
        let mut every = tokio::time::interval(WATCH_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = every.tick() => {}
            }
            if let Err(e) = self.check().await {
                tracing::debug!(error = %e, "could not check running jobs for cancellation");
            }
        }
    }

    /// Cancels the tokens of running jobs that were cancelled, or whose crawl was.
    async fn check(&self) -> redis::RedisResult<()> {
        let watched: Vec<(String, Option<String>)> = self
            .lock()
            .iter()
            .map(|(id, running)| (id.clone(), running.crawl.clone()))
            .collect();
        if watched.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (id, crawl) in &watched {
            pipe.hget(keys::job(id), field::CANCEL_REQUESTED);
            match crawl {
                Some(crawl) => pipe.hget(keys::crawl(crawl), "state"),
                None => pipe.cmd("ECHO").arg(""),
            };
        }
        let mut conn = self.redis.clone();
        let answers: Vec<Option<String>> = pipe.query_async(&mut conn).await?;
        let running = self.lock();
        for ((id, _), answer) in watched.iter().zip(answers.chunks(2)) {
            let requested = answer[0].as_deref() == Some("1");
            let crawl_cancelled = answer[1].as_deref() == Some(frontier::state::CANCELLED);
            if requested || crawl_cancelled {
                if let Some(job) = running.get(id) {
                    job.token.cancel();
                }
            }
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}
