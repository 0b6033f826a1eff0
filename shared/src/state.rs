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

/// KEYS: job hash, status counters, completion stream. ARGV: new status, TTL seconds,
/// stream max length, "1" to apply only from `dead`, job id, then field/value pairs.
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
redis.call('HSET', KEYS[1], '{status}', to, '{updated}', ARGV[6], unpack(ARGV, 7))
if to == '{done}' then redis.call('HDEL', KEYS[1], '{error}') end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], to, 1)
if {terminal_to} then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'id', ARGV[5], 'status', to)
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
    run(conn, id, to, fields, ttl_secs, false).await
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
) -> redis::RedisResult<Transition> {
    let mut invocation = TRANSITION.prepare_invoke();
    invocation
        .key(keys::job(id))
        .key(keys::STATUS_COUNTS)
        .key(keys::COMPLETIONS)
        .arg(to.as_str())
        .arg(ttl_secs.clamp(1, i64::MAX as u64))
        .arg(keys::COMPLETIONS_MAX_LEN)
        .arg(if only_from_dead { "1" } else { "0" })
        .arg(id)
        .arg(now_ms());
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
