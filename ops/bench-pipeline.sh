#!/usr/bin/env bash
# Pipeline throughput: one release worker consumes inline-HTML jobs made from the dev corpus
# pages (each page REPEATS times, under distinct URLs so deduplication does not drop them);
# reports jobs per second from first publish to last result, and the share of the worker's
# CPU time spent inside extraction (riptide_extraction_cpu_seconds_total, thread CPU time,
# over the worker's user+system CPU seconds). Uses its own queue namespace.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="${RIPTIDE_BENCH_PAGES:-$root/../shared/corpus/dev/html}"
repeats="${REPEATS:-10}"
port=9199

"$root/ops/services.sh"
"$root/ops/build-guest.sh" >/dev/null
(cd "$root" && cargo build --release -q -p riptide-worker -p riptide-dispatcher)

pages="$(mktemp -d)"
trap 'kill -TERM "${worker_pid:-0}" 2>/dev/null; wait 2>/dev/null; rm -rf "$pages"' EXIT
for page in "$corpus"/*.html.gz; do gunzip -c "$page" > "$pages/$(basename "$page" .gz)"; done

export RIPTIDE_BROKER__NAMESPACE="riptide-bench-$$"
export RIPTIDE_WASM__COMPONENT_PATH="$root/target/guest/riptide_extractor.wasm"
export RIPTIDE_WORKER__LISTEN="127.0.0.1:$port"
RUST_LOG=warn "$root/target/release/riptide-worker" run &
worker_pid=$!
until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.2; done

cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$worker_pid/stat"; }
extraction_seconds() {
  curl -fs "http://127.0.0.1:$port/metrics" | awk '/^riptide_extraction_cpu_seconds_total/ {s += $2} END {print s + 0}'
}

cpu_before="$(cpu_seconds)"; extract_before="$(extraction_seconds)"
start="$(date +%s.%N)"
for r in $(seq "$repeats"); do
  "$root/target/release/riptide-dispatcher" enqueue --html "$pages"/*.html --base-url "https://bench-$$-$r.example/" >/dev/null &
done
wait $(jobs -p | grep -v "^$worker_pid$") 2>/dev/null || true
total=$(( repeats * $(ls "$pages" | wc -l) ))
# Wait until the worker has stored every result.
until [ "$(curl -fs "http://127.0.0.1:$port/metrics" | awk '/^riptide_jobs_total\{outcome="done"\}/ {print $2}')" = "$total" ]; do sleep 0.1; done
end="$(date +%s.%N)"
cpu_after="$(cpu_seconds)"; extract_after="$(extraction_seconds)"

python3 - "$total" "$start" "$end" "$cpu_before" "$cpu_after" "$extract_before" "$extract_after" <<'PY'
import sys
total, start, end, cpu0, cpu1, ex0, ex1 = map(float, sys.argv[1:])
elapsed, cpu, extraction = end - start, cpu1 - cpu0, ex1 - ex0
print(f"jobs: {int(total)}  elapsed: {elapsed:.1f} s  throughput: {total / elapsed:.0f} jobs/s")
print(f"worker CPU: {cpu:.1f} s  in extraction: {extraction:.1f} s  share: {100 * extraction / cpu:.0f}%")
PY
