#!/usr/bin/env bash
# Every test (unit, component, sandbox, ops files, and end to end against the real
# RabbitMQ and Redis): set-up first, then `cargo test --workspace`. Extra arguments go to
# cargo test (e.g. `ops/test.sh -p riptide-e2e --test ops`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/ops/setup.sh"
cd "$root"
exec cargo test --workspace "$@"
