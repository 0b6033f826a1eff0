//! Job status transitions in Redis, each one atomic (a Lua script), shared by the worker
//! and the dispatcher so the rules live in one place:
//! - `done` and `dead` are terminal: a later copy of the same job (a redelivery, a stale
//!   retry racing a finished run) cannot overwrite them, nor the stored result;
//! - a dead job becomes `queued` again only through [`reopen_dead`] (`dlq replay`);
//! - every applied transition counts in [`keys::STATUS_COUNTS`], refreshes the hash's TTL,
//!   and a terminal one is announced on [`keys::COMPLETIONS`].

use std::sync::LazyLock;

use redis::aio::ConnectionManager;
use redis::Script;

use crate::job::{now_ms, Status};
use crate::keys::{self, field};

/// A Lua script whose body can use `now`: Redis's own clock in milliseconds, so that
/// every process agrees on time whatever its own clock says.
pub fn script_on_redis_clock(body: &str) -> Script {
    Script::new(&format!(
        "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n{body}"
    ))
}

/// Whether a transition was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Applied,
    /// The job's status did not allow it; the status it has.
    Refused(Option<Status>),
}

impl Transition {
    pub fn applied(self) -> bool {
        self == Self::Applied
    }
}

/// KEYS: job hash, status counters, completion stream, and for a crawl's page the crawl's
/// hash and its pages list. ARGV: new status, TTL seconds, stream max length, "1" to apply
/// only from `dead`, job id, now, the crawl's terminal reason ("" when none), the crawl id,
/// then field/value pairs.
static TRANSITION: LazyLock<Script> = LazyLock::new(|| {
    let terminal: Vec<String> = Status::ALL
        .iter()
        .filter(|s| s.is_terminal())
        .map(|s| format!("current == '{}'", s.as_str()))
        .collect();
    let terminal = terminal.join(" or ");
    Script::new(&format!(
        r#"
local current = redis.call('HGET', KEYS[1], '{status}')
local to = ARGV[1]
if ARGV[4] == '1' then
  if current ~= '{dead}' then return current or '' end
elseif {terminal} then
  return current
end
if #ARGV >= 9 then
  redis.call('HSET', KEYS[1], '{status}', to, '{updated}', ARGV[6], unpack(ARGV, 9))
else
  redis.call('HSET', KEYS[1], '{status}', to, '{updated}', ARGV[6])
end
if to == '{done}' then redis.call('HDEL', KEYS[1], '{error}') end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], to, 1)
if {terminal_to} then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'id', ARGV[5], 'status', to)
  if #KEYS >= 5 and ARGV[7] ~= '' then
    local reason = ARGV[7]
    redis.call('HINCRBY', KEYS[4], reason, 1)
    if string.sub(reason, 1, 5) == 'dead:' then redis.call('HINCRBY', KEYS[4], 'dead', 1) end
    if to == '{done}' then redis.call('RPUSH', KEYS[5], ARGV[5]) end
    if redis.call('HINCRBY', KEYS[4], 'pending', -1) <= 0 then
      local final = 'completed'
      if redis.call('HGET', KEYS[4], 'state') == 'cancelled' then final = 'cancelled' end
      if redis.call('HSETNX', KEYS[4], 'finished_at_ms', ARGV[6]) == 1 then
        redis.call('HSET', KEYS[4], 'state', final)
        redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'crawl_id', ARGV[8], 'status', final)
      end
    end
  end
end
return 'applied'
"#,
        status = field::STATUS,
        updated = field::UPDATED_AT_MS,
        error = field::ERROR,
        dead = Status::Dead.as_str(),
        done = Status::Done.as_str(),
        terminal = terminal,
        terminal_to = terminal.replace("current", "to"),
    ))
});

const APPLIED: &str = "applied";

/// Moves job `id` to `to`, setting `fields` too, unless its status is terminal.
pub async fn transition(
    conn: &ConnectionManager,
    id: &str,
    to: Status,
    fields: &[(&str, String)],
    ttl_secs: u64,
) -> redis::RedisResult<Transition> {
    run(conn, id, to, fields, ttl_secs, false, None).await
}

/// A crawl page's terminal state, counted in its crawl in the same atomic step as the
/// page's status: the crawl's `pending` count drops, the reason's count grows, a done page
/// joins the crawl's pages, and the crawl completes (once) when nothing of it is pending.
#[derive(Debug, Clone, Copy)]
pub struct CrawlTally<'a> {
    pub crawl_id: &'a str,
    /// `done`, `dead:<reason>`, `robots-disallowed`, `cancelled`...
    pub reason: &'a str,
}

/// [`transition`] for a crawl's page: a terminal transition is tallied in the crawl.
pub async fn transition_in_crawl(
    conn: &ConnectionManager,
    id: &str,
    to: Status,
    fields: &[(&str, String)],
    ttl_secs: u64,
    tally: CrawlTally<'_>,
) -> redis::RedisResult<Transition> {
    run(conn, id, to, fields, ttl_secs, false, Some(tally)).await
}

/// Makes a dead job `queued` again (an operator's replay); refused for any other status.
pub async fn reopen_dead(
    conn: &ConnectionManager,
    id: &str,
    ttl_secs: u64,
) -> redis::RedisResult<Transition> {
    run(
        conn,
        id,
        Status::Queued,
        &[(field::ATTEMPTS, "0".into())],
        ttl_secs,
        true,
        None,
    )
    .await
}

async fn run(
    conn: &ConnectionManager,
    id: &str,
    to: Status,
    fields: &[(&str, String)],
    ttl_secs: u64,
    only_from_dead: bool,
    tally: Option<CrawlTally<'_>>,
) -> redis::RedisResult<Transition> {
    let mut invocation = TRANSITION.prepare_invoke();
    invocation
        .key(keys::job(id))
        .key(keys::STATUS_COUNTS)
        .key(keys::COMPLETIONS);
    if let Some(tally) = tally {
        invocation
            .key(keys::crawl(tally.crawl_id))
            .key(keys::crawl_pages(tally.crawl_id));
    }
    invocation
        .arg(to.as_str())
        .arg(ttl_secs.clamp(1, i64::MAX as u64))
        .arg(keys::COMPLETIONS_MAX_LEN)
        .arg(if only_from_dead { "1" } else { "0" })
        .arg(id)
        .arg(now_ms())
        .arg(tally.map_or("", |t| t.reason))
        .arg(tally.map_or("", |t| t.crawl_id));
    for (name, value) in fields {
        invocation.arg(*name).arg(value);
    }
    let mut conn = conn.clone();
    let answer: String = invocation.invoke_async(&mut conn).await?;
    Ok(if answer == APPLIED {
        Transition::Applied
    } else {
        Transition::Refused(Status::parse(&answer))
    })
}
