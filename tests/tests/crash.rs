//! A worker killed with SIGKILL in the middle of 2,000 jobs and restarted: every job ends
//! `done` in Redis, none is lost. The worker runs as a child process: this test binary
//! re-executes itself to run only `worker_process`, which hosts the real worker.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use riptide_e2e::{namespace, worker_config, Dispatcher};
use riptide_extractor::ExtractionMode;
use riptide_shared::job::{Job, JobKind};
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
