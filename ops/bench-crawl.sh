#!/usr/bin/env bash
# The crawl benchmark: 20 local hosts of 200 pages, two workers, a 200 ms politeness delay;
# prints pages per second against the politeness bound (hosts / delay = 100 pages/s) and the
# politeness violations (must be 0). Then the crawl dedup set's bytes per URL at 100,000
# URLs. Needs RabbitMQ and Redis (ops/services.sh) and the component (ops/build-guest.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/ops/services.sh"
"$root/ops/build-guest.sh" >/dev/null
cd "$root"
cargo bench -q -p riptide-e2e --bench crawl
cargo test -q -p riptide-e2e --test crawl dedup_costs -- --nocapture 2>&1 | grep 'dedup:'
