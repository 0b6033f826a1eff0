#!/usr/bin/env bash
# The main job, end to end, on this machine: checks (or starts) RabbitMQ and Redis, builds
# the component and the binaries, serves a few real article pages on 127.0.0.1, starts a
# worker, enqueues those pages with the dispatcher and prints the results, then crawls the
# site from its index page and prints the crawl's summary. Uses its own queue namespace
# (riptide-demo), so it never mixes with real work.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="${RIPTIDE_DEMO_PAGES:-$root/../shared/corpus/dev/html}"
port="${RIPTIDE_DEMO_PORT:-8765}"
pages="${RIPTIDE_DEMO_COUNT:-5}"

fail() { printf 'demo: %s\n' "$*" >&2; exit 1; }
"$root/ops/preflight.sh"
ls "$corpus"/*.html.gz >/dev/null 2>&1 || fail "no sample pages in $corpus; set RIPTIDE_DEMO_PAGES to a folder of .html.gz pages"

started=$SECONDS
"$root/ops/services.sh"
# The host build and the component build (with its Debian packages) side by side: on a
# fresh 2-core machine the whole demo took 6.5 minutes; a rebuild takes seconds.
echo "demo: building the worker, the dispatcher and the extractor component (minutes on a fresh machine)" >&2
build_log="$(mktemp)"
(cd "$root" && cargo build --release -p riptide-worker -p riptide-dispatcher) >"$build_log" 2>&1 &
build_pid=$!
if ! "$root/ops/build-guest.sh" >/dev/null; then
  kill "$build_pid" 2>/dev/null || true
  fail "building the extractor component failed (see above)"
fi
if ! wait "$build_pid"; then
  tail -n 30 "$build_log" >&2
  fail "cargo build --release failed; full log in $build_log"
fi
rm -f "$build_log"
echo "demo: built in $((SECONDS - started)) s" >&2

site="$(mktemp -d)"
worker_pid=""
server_pid=""
cleanup() {
  [ -n "$worker_pid" ] && kill -TERM "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$site"
}
trap cleanup EXIT

urls=()
for page in $(ls "$corpus"/*.html.gz | head -n "$pages"); do
  name="$(basename "$page" .gz)"
  gunzip -c "$page" > "$site/$name"
  urls+=("http://127.0.0.1:$port/$name")
done
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$site" >/dev/null 2>&1 &
server_pid=$!

export RIPTIDE_BROKER__NAMESPACE=riptide-demo
export RIPTIDE_FETCH__ALLOW_PRIVATE_NETWORKS=true
export RIPTIDE_WASM__COMPONENT_PATH="$root/target/guest/riptide_extractor.wasm"
export RIPTIDE_WORKER__LISTEN=127.0.0.1:9100
RUST_LOG=warn "$root/target/release/riptide-worker" run &
worker_pid=$!
for _ in $(seq 60); do
  curl -fs http://127.0.0.1:9100/readyz >/dev/null 2>&1 && break
  kill -0 "$worker_pid" 2>/dev/null || fail "the worker exited; see its log above"
  sleep 0.5
done
curl -fs http://127.0.0.1:9100/readyz >/dev/null || fail "the worker did not become ready"

echo "demo: enqueueing ${#urls[@]} pages served on 127.0.0.1:$port" >&2
"$root/target/release/riptide-dispatcher" enqueue --wait --timeout-secs 120 "${urls[@]}" \
  | python3 -c '
import json, sys
for line in sys.stdin:
    job = json.loads(line)
    result = job.get("result")
    if not result:
        continue
    c = result["content"]
    title = (c["title"] or "")[:70]
    print("%-5s %-15s %6d words  quality %3d  %-3s %s" % (job["status"], result["extractor"], c["word_count"], c["quality_score"], c["language"] or "-", title))
'
echo "demo: crawling the site from its index page (depth 1, politely: 1 request a second)" >&2
"$root/target/release/riptide-dispatcher" crawl start "http://127.0.0.1:$port/" --max-depth 1 --wait --timeout-secs 120 \
  | python3 -c '
import json, sys
lines = [line for line in sys.stdin if line.strip()]
crawl = json.loads(lines[-1])
print("crawl %s: %s, %d links discovered: %s" % (crawl["id"][:8], crawl["state"], crawl["discovered"],
      ", ".join("%s %d" % (reason, n) for reason, n in sorted(crawl["terminal"].items()))))
'
cat >&2 <<NEXT
demo: done in $((SECONDS - started)) s. Where to look next:
  target/release/riptide-dispatcher --help    enqueue, crawl, status, dlq, stats, serve
  RIPTIDE_BROKER__NAMESPACE=riptide-demo target/release/riptide-dispatcher stats --watch
                                              the live view (run a worker and enqueue more)
  docker compose up -d --build                the whole stack with Prometheus and Grafana
  ops/RUNBOOK.md                              what each alert means and what to do
  README.md "Message and storage contract"    to publish jobs from another language
NEXT
