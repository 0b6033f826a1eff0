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

use crate::job::{now_ms, Receipt, Status};
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
    /// A claim (`processing`) refused because a producer cancelled the job.
    CancelRequested,
}

impl Transition {
    pub fn applied(self) -> bool {
        self == Self::Applied
    }
}

/// Lua: completes a group (a crawl or a batch) once, when nothing of it is pending: its
/// state and finish time are set, its completion goes on the completion stream, and its
/// `callback_url`, if any, gets a delivery queued in the callbacks set. Used by every
/// script that can end a group's last job.
pub const COMPLETE_GROUP_LUA: &str = r#"
local function complete_group(group, stream, callbacks, maxlen, kind, id, now)
  local final = 'completed'
  if redis.call('HGET', group, 'state') == 'cancelled' then final = 'cancelled' end
  if redis.call('HSETNX', group, 'finished_at_ms', now) == 0 then return end
  redis.call('HSET', group, 'state', final)
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', kind .. '_id', id, 'status', final)
  local url = redis.call('HGET', group, 'callback_url')
  if url then
    local counts = {}
    local fields = redis.call('HGETALL', group)
    for i = 1, #fields, 2 do
      local n = tonumber(fields[i + 1])
      if n and not string.find(fields[i], '_ms$') then counts[fields[i]] = n end
    end
    local delivery = kind .. ':' .. id .. ':' .. final
    local body = cjson.encode({event = kind .. '.' .. final, delivery_id = delivery, id = id,
      status = final, counts = counts, finished_at_ms = tonumber(now)})
    redis.call('ZADD', callbacks, now, cjson.encode({url = url, body = body,
      delivery_id = delivery, attempt = 0}))
  end
end
"#;

/// KEYS: job hash, status counters, completion stream, the group's hash and (for a crawl)
/// its pages list (else unused), the tenant's usage hash, the set of tenants, the
/// callbacks set. ARGV: new status, TTL seconds, stream max length, "1" to apply only from
/// `dead`, job id, now, the group's terminal reason ("" when none), the group id, the
/// tenant and its usage as a JSON object of counters ("" when none: added when the job
/// ends done), the group's kind (`crawl` or `batch`), then field/value pairs. A job with a
/// `callback_url` gets a delivery queued when it ends.
static TRANSITION: LazyLock<Script> = LazyLock::new(|| {
    let terminal: Vec<String> = Status::ALL
        .iter()
        .filter(|s| s.is_terminal())
        .map(|s| format!("current == '{}'", s.as_str()))
        .collect();
    let terminal = terminal.join(" or ");
    Script::new(&format!(
        r#"{complete_group}
local current = redis.call('HGET', KEYS[1], '{status}')
local to = ARGV[1]
if ARGV[4] == '1' then
  if current ~= '{dead}' then return current or '' end
elseif {terminal} then
  return current
end
if to == '{processing}' and redis.call('HGET', KEYS[1], '{cancel}') == '1' then
  return '{cancel_requested}'
end
if #ARGV >= 12 then
  redis.call('HSET', KEYS[1], '{status}', to, '{updated}', ARGV[6], unpack(ARGV, 12))
else
  redis.call('HSET', KEYS[1], '{status}', to, '{updated}', ARGV[6])
end
if to == '{done}' then redis.call('HDEL', KEYS[1], '{error}') end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], to, 1)
if to == '{done}' and ARGV[10] ~= '' then
  for name, value in pairs(cjson.decode(ARGV[10])) do
    redis.call('HINCRBY', KEYS[6], name, value)
  end
  redis.call('SADD', KEYS[7], ARGV[9])
end
if {terminal_to} then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'id', ARGV[5], 'status', to)
  local url = redis.call('HGET', KEYS[1], '{callback}')
  if url then
    local delivery = 'job:' .. ARGV[5] .. ':' .. to
    local body = cjson.encode({{event = 'job.' .. to, delivery_id = delivery, id = ARGV[5],
      status = to, finished_at_ms = tonumber(ARGV[6])}})
    redis.call('ZADD', KEYS[8], ARGV[6], cjson.encode({{url = url, body = body,
      delivery_id = delivery, attempt = 0}}))
  end
  if ARGV[7] ~= '' then
    local reason = ARGV[7]
    redis.call('HINCRBY', KEYS[4], reason, 1)
    if string.sub(reason, 1, 5) == 'dead:' then redis.call('HINCRBY', KEYS[4], 'dead', 1) end
    if to == '{done}' and ARGV[11] == 'crawl' then redis.call('RPUSH', KEYS[5], ARGV[5]) end
    if redis.call('HINCRBY', KEYS[4], 'pending', -1) <= 0 then
      complete_group(KEYS[4], KEYS[3], KEYS[8], ARGV[3], ARGV[11], ARGV[8], ARGV[6])
    end
  end
end
return 'applied'
"#,
        complete_group = COMPLETE_GROUP_LUA,
        status = field::STATUS,
        updated = field::UPDATED_AT_MS,
        error = field::ERROR,
        callback = field::CALLBACK_URL,
        dead = Status::Dead.as_str(),
        done = Status::Done.as_str(),
        processing = Status::Processing.as_str(),
        cancel = field::CANCEL_REQUESTED,
        cancel_requested = CANCEL_REQUESTED,
        terminal = terminal,
        terminal_to = terminal.replace("current", "to"),
    ))
});

const APPLIED: &str = "applied";
const CANCEL_REQUESTED: &str = "cancel-requested";

/// Moves job `id` (of queue `namespace`, whose webhook senders deliver its callback) to
/// `to`, setting `fields` too, unless its status is terminal.
pub async fn transition(
    conn: &ConnectionManager,
    namespace: &str,
    id: &str,
    to: Status,
    fields: &[(&str, String)],
    ttl_secs: u64,
) -> redis::RedisResult<Transition> {
    run(
        conn,
        namespace,
        id,
        to,
        fields,
        ttl_secs,
        false,
        Tally::default(),
    )
    .await
}

/// A job's terminal state counted in its group in the same atomic step as its own status:
/// the group's `pending` count drops, the reason's count grows, a crawl's done page joins
/// its pages, and the group completes (once) when nothing of it is pending.
#[derive(Debug, Clone, Copy)]
pub struct GroupTally<'a> {
    pub kind: GroupKind,
    pub id: &'a str,
    /// `done`, `dead:<reason>`, `robots-disallowed`, `cancelled`...
    pub reason: &'a str,
}

/// What a job can belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Crawl,
    Batch,
}

impl GroupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Crawl => "crawl",
            Self::Batch => "batch",
        }
    }
}

/// A job's cost, added to its tenant's totals in the same atomic step as its `done`, so
/// the totals are exactly the sum of the stored receipts.
#[derive(Debug, Clone, Copy)]
pub struct UsageTally<'a> {
    pub tenant: &'a str,
    pub receipt: &'a Receipt,
}

/// What a transition counts besides the job's own status.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally<'a> {
    pub group: Option<GroupTally<'a>>,
    pub usage: Option<UsageTally<'a>>,
}

/// [`transition`] that also counts the job in its group and its tenant's usage.
pub async fn transition_tallied(
    conn: &ConnectionManager,
    namespace: &str,
    id: &str,
    to: Status,
    fields: &[(&str, String)],
    ttl_secs: u64,
    tally: Tally<'_>,
) -> redis::RedisResult<Transition> {
    run(conn, namespace, id, to, fields, ttl_secs, false, tally).await
}

/// What a cancellation request found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelRequest {
    /// No such job (never submitted, or expired).
    Unknown,
    /// The job had already finished: nothing changed.
    Finished(Status),
    /// Marked: the job was in this status. A worker running it stops it, and a worker that
    /// picks it up later refuses it.
    Marked { was: Status, crawl: Option<String> },
}

/// KEYS: job hash. Marks the job cancelled unless it finished; returns {status, crawl id}
/// ("" when unknown), and whether it was marked.
static REQUEST_CANCEL: LazyLock<Script> = LazyLock::new(|| {
    let terminal: Vec<String> = Status::ALL
        .iter()
        .filter(|s| s.is_terminal())
        .map(|s| format!("current == '{}'", s.as_str()))
        .collect();
    Script::new(&format!(
        r#"
local current = redis.call('HGET', KEYS[1], '{status}')
if not current then return {{'', '', 0}} end
local crawl = redis.call('HGET', KEYS[1], '{crawl}') or ''
if {terminal} then return {{current, crawl, 0}} end
redis.call('HSET', KEYS[1], '{cancel}', '1')
return {{current, crawl, 1}}
"#,
        status = field::STATUS,
        crawl = field::CRAWL_ID,
        cancel = field::CANCEL_REQUESTED,
        terminal = terminal.join(" or "),
    ))
});

/// Marks job `id` cancelled unless it already finished.
pub async fn request_cancel(
    conn: &ConnectionManager,
    id: &str,
) -> redis::RedisResult<CancelRequest> {
    let mut conn = conn.clone();
    let (status, crawl, marked): (String, String, i64) = REQUEST_CANCEL
        .key(keys::job(id))
        .invoke_async(&mut conn)
        .await?;
    let Some(status) = Status::parse(&status) else {
        return Ok(CancelRequest::Unknown);
    };
    Ok(if marked == 1 {
        CancelRequest::Marked {
            was: status,
            crawl: (!crawl.is_empty()).then_some(crawl),
        }
    } else {
        CancelRequest::Finished(status)
    })
}

/// Makes a dead job `queued` again (an operator's replay); refused for any other status.
pub async fn reopen_dead(
    conn: &ConnectionManager,
    id: &str,
    ttl_secs: u64,
) -> redis::RedisResult<Transition> {
    run(
        conn,
        // `queued` is not terminal: no webhook, so no namespace's senders are involved.
        "",
        id,
        Status::Queued,
        &[(field::ATTEMPTS, "0".into())],
        ttl_secs,
        true,
        Tally::default(),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn run(
    conn: &ConnectionManager,
    namespace: &str,
    id: &str,
    to: Status,
    fields: &[(&str, String)],
    ttl_secs: u64,
    only_from_dead: bool,
    tally: Tally<'_>,
) -> redis::RedisResult<Transition> {
    let job_key = keys::job(id);
    let usage = tally.usage.map(|u| {
        let counters: serde_json::Map<String, serde_json::Value> = u
            .receipt
            .counters()
            .into_iter()
            .map(|(name, value)| (name.to_string(), value.into()))
            .collect();
        (u.tenant, serde_json::Value::Object(counters).to_string())
    });
    let mut invocation = TRANSITION.prepare_invoke();
    invocation
        .key(&job_key)
        .key(keys::STATUS_COUNTS)
        .key(keys::COMPLETIONS);
    match tally.group {
        Some(GroupTally {
            kind: GroupKind::Crawl,
            id,
            ..
        }) => invocation.key(keys::crawl(id)).key(keys::crawl_pages(id)),
        // The second key is used by crawls only: any key will do.
        Some(GroupTally {
            kind: GroupKind::Batch,
            id,
            ..
        }) => invocation.key(keys::batch(id)).key(keys::batch(id)),
        None => invocation.key(&job_key).key(&job_key),
    };
    match &usage {
        Some((tenant, _)) => invocation.key(keys::usage(tenant)).key(keys::TENANTS),
        None => invocation.key(&job_key).key(&job_key),
    };
    invocation
        .key(keys::callbacks(namespace))
        .arg(to.as_str())
        .arg(ttl_secs.clamp(1, i64::MAX as u64))
        .arg(keys::COMPLETIONS_MAX_LEN)
        .arg(if only_from_dead { "1" } else { "0" })
        .arg(id)
        .arg(now_ms())
        .arg(tally.group.map_or("", |g| g.reason))
        .arg(tally.group.map_or("", |g| g.id))
        .arg(usage.as_ref().map_or("", |(tenant, _)| *tenant))
        .arg(usage.as_ref().map_or("", |(_, json)| json.as_str()))
        .arg(tally.group.map_or("", |g| g.kind.as_str()));
    for (name, value) in fields {
        invocation.arg(*name).arg(value);
    }
    let mut conn = conn.clone();
    let answer: String = invocation.invoke_async(&mut conn).await?;
    Ok(if answer == APPLIED {
        Transition::Applied
    } else if answer == CANCEL_REQUESTED {
        Transition::CancelRequested
    } else {
        Transition::Refused(Status::parse(&answer))
    })
}
