//! `riptide-dispatcher stats`: queue depths, jobs by status, and each worker's breaker
//! state. Once as one JSON object, or with `--watch` as a live view refreshed in place, with
//! rates computed between refreshes (one JSON object per refresh when stdout is not a
//! terminal, for logs).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use clap::Args;
use console::{style, Term};
use riptide_dispatcher::jobs::WorkerView;
use riptide_shared::job::{now_ms, Status};
use riptide_shared::outcome::BreakerState;
use serde::Serialize;
use tokio::signal::unix::{signal, SignalKind};

use super::Connections;

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Keep refreshing until Ctrl-C.
    #[arg(long)]
    watch: bool,
    /// Seconds between refreshes with --watch.
    #[arg(long, default_value_t = 2.0, value_name = "SECS")]
    interval: f64,
}

/// One reading of the fleet.
#[derive(Debug, Serialize)]
struct Snapshot {
    queues: BTreeMap<String, u32>,
    jobs_by_status: BTreeMap<String, u64>,
    workers: Vec<WorkerView>,
    #[serde(skip)]
    taken: Instant,
}

impl Snapshot {
    async fn take(ctx: &Connections) -> anyhow::Result<Self> {
        Ok(Self {
            queues: ctx.broker.queue_depths().await?.into_iter().collect(),
            jobs_by_status: ctx.jobs.status_counts().await?,
            workers: ctx.jobs.workers().await?,
            taken: Instant::now(),
        })
    }
}

pub async fn run(ctx: &Connections, args: StatsArgs) -> anyhow::Result<()> {
    if !args.watch {
        println!("{}", serde_json::to_string(&Snapshot::take(ctx).await?)?);
        return Ok(());
    }
    anyhow::ensure!(
        args.interval >= 0.1,
        "--interval must be at least 0.1 seconds"
    );
    let term = Term::stdout();
    let live = term.is_term();
    if live {
        term.hide_cursor()?;
        term.clear_screen()?;
    }
    let watched = watch(ctx, &term, live, Duration::from_secs_f64(args.interval)).await;
    if live {
        term.show_cursor()?;
    }
    watched
}

async fn watch(
    ctx: &Connections,
    term: &Term,
    live: bool,
    interval: Duration,
) -> anyhow::Result<()> {
    // One listener for the whole view: a Ctrl-C pressed while a snapshot is being taken is
    // kept for the next select rather than lost between two fresh `ctrl_c()` futures.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut ticks = tokio::time::interval(interval);
    let mut previous: Option<Snapshot> = None;
    loop {
        tokio::select! {
            _ = interrupt.recv() => return Ok(()),
            _ = ticks.tick() => {}
        }
        let snapshot = match Snapshot::take(ctx).await {
            Ok(snapshot) => snapshot,
            // An outage is what an operator watches for: show it and keep refreshing.
            Err(e) if live => {
                term.move_cursor_to(0, 0)?;
                term.clear_line()?;
                term.write_line(&format!("{} {e:#}", style("unreachable:").red().bold()))?;
                term.clear_to_end_of_screen()?;
                continue;
            }
            Err(e) => return Err(e),
        };
        if live {
            let (_, width) = term.size();
            term.move_cursor_to(0, 0)?;
            for line in render(&snapshot, previous.as_ref(), interval).lines() {
                term.clear_line()?;
                term.write_line(&console::truncate_str(line, usize::from(width), ""))?;
            }
            term.clear_to_end_of_screen()?;
        } else {
            println!("{}", serde_json::to_string(&snapshot)?);
        }
        previous = Some(snapshot);
    }
}

/// The live view as text: queues with their change per second, job counts with rates, and
/// one line per worker with its breaker state.
fn render(now: &Snapshot, before: Option<&Snapshot>, interval: Duration) -> String {
    let elapsed = before
        .map(|b| now.taken.duration_since(b.taken).as_secs_f64())
        .filter(|s| *s > 0.0);
    let rate = |current: f64, earlier: Option<f64>| match (earlier, elapsed) {
        (Some(earlier), Some(secs)) => format!("{:+10.1}", (current - earlier) / secs),
        _ => format!("{:>10}", "-"),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}   refresh {:.1} s   Ctrl-C quits",
        style("RipTide fleet").bold(),
        interval.as_secs_f64()
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{}",
        style(format!("{:<32}{:>10}{:>10}", "QUEUE", "DEPTH", "CHANGE/s")).bold()
    );
    for (queue, depth) in &now.queues {
        let earlier = before
            .and_then(|b| b.queues.get(queue))
            .map(|d| f64::from(*d));
        let line = format!("{queue:<32}{depth:>10}{}", rate(f64::from(*depth), earlier));
        let line = if queue.ends_with(".dead") && *depth > 0 {
            style(line).red().to_string()
        } else {
            line
        };
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{}",
        style(format!(
            "{:<32}{:>10}{:>10}",
            "JOBS REACHING", "TOTAL", "PER s"
        ))
        .bold()
    );
    for status in Status::ALL {
        let count = |s: &Snapshot| s.jobs_by_status.get(status.as_str()).copied();
        let total = count(now).unwrap_or(0);
        let earlier = before.map(|b| count(b).unwrap_or(0) as f64);
        let _ = writeln!(
            out,
            "{:<32}{total:>10}{}",
            status.as_str(),
            rate(total as f64, earlier)
        );
    }
    let _ = writeln!(out);
    let open = now.workers.iter().filter(|w| w.breaker_state == 1).count();
    let _ = writeln!(
        out,
        "{}",
        style(format!(
            "WORKERS: {} alive, {} with the breaker open",
            now.workers.len(),
            open
        ))
        .bold()
    );
    let _ = writeln!(
        out,
        "{}",
        style(format!(
            "{:<40}{:>12}{:>10}{:>12}",
            "ID", "BREAKER", "IN FLIGHT", "SEEN"
        ))
        .bold()
    );
    let now_ms = now_ms();
    for worker in &now.workers {
        let breaker = match BreakerState::from_gauge(worker.breaker_state) {
            Some(state @ BreakerState::Closed) => style(format!("{:>12}", state.as_str())).green(),
            Some(state @ BreakerState::Open) => {
                style(format!("{:>12}", state.as_str())).red().bold()
            }
            Some(state @ BreakerState::HalfOpen) => {
                style(format!("{:>12}", state.as_str())).yellow()
            }
            None => style(format!("{:>12}", worker.breaker_state)),
        };
        let seen = now_ms.saturating_sub(worker.updated_at_ms) / 1000;
        let _ = writeln!(
            out,
            "{:<40}{breaker}{:>10}{:>10} s ago",
            worker.id, worker.in_flight, seen
        );
    }
    if now.workers.is_empty() {
        let _ = writeln!(out, "(no worker heartbeats in Redis)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(jobs: u32, done: u64, taken: Instant) -> Snapshot {
        Snapshot {
            queues: BTreeMap::from([("riptide.jobs".into(), jobs), ("riptide.dead".into(), 2)]),
            jobs_by_status: BTreeMap::from([("done".into(), done)]),
            workers: vec![WorkerView {
                id: "w1".into(),
                breaker_state: 1,
                in_flight: 3,
                updated_at_ms: now_ms(),
            }],
            taken,
        }
    }

    #[test]
    fn rates_are_changes_per_second_between_refreshes() {
        console::set_colors_enabled(false);
        let start = Instant::now();
        let before = snapshot(100, 10, start);
        let now = snapshot(80, 50, start + Duration::from_secs(2));
        let view = render(&now, Some(&before), Duration::from_secs(2));
        let line = |prefix: &str| {
            view.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no {prefix} line in\n{view}"))
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(line("riptide.jobs"), ["riptide.jobs", "80", "-10.0"]);
        assert_eq!(line("done"), ["done", "50", "+20.0"]);
        assert_eq!(line("queued"), ["queued", "0", "+0.0"]);
        assert_eq!(line("w1"), ["w1", "open", "3", "0", "s", "ago"]);
        assert!(view.contains("1 alive, 1 with the breaker open"), "{view}");

        let first = render(&now, None, Duration::from_secs(2));
        assert!(first
            .lines()
            .any(|l| l.starts_with("riptide.jobs") && l.ends_with('-')));
    }
}
