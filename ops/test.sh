#!/usr/bin/env bash
# Every test (unit, component, sandbox, ops files, and end to end against the real
# RabbitMQ and Redis): set-up first, the patched dom_smoothie's own tests (it is not a
# workspace member), then `cargo test --workspace`. Extra arguments go to the workspace's
# cargo test (e.g. `ops/test.sh -p riptide-e2e --test ops`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/ops/setup.sh"
cd "$root"
cargo test --manifest-path guest-extractor/patched/dom_smoothie/Cargo.toml --lib \
  --target-dir target/patched
exec cargo test --workspace "$@"
