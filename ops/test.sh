#!/usr/bin/env bash
# Every test (unit, component, sandbox, ops files, and end to end against the real
# RabbitMQ and Redis): set-up first, the own tests of the patched dependencies in
# guest-extractor/patched/ and worker/patched/ (they are not workspace members), then
# `cargo test --workspace`.
# Extra arguments go to the workspace's cargo test (e.g. `ops/test.sh -p riptide-e2e --test ops`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/ops/setup.sh"
cd "$root"
for patched in guest-extractor/patched/*/ worker/patched/*/; do
  cargo test --manifest-path "${patched}Cargo.toml" --lib --target-dir target/patched
done
# Again with the feature RipTide builds it with (guest-extractor/Cargo.toml), whose code the
# run above does not compile.
cargo test --manifest-path guest-extractor/patched/dom_smoothie/Cargo.toml --lib \
  --target-dir target/patched --features aho-corasick
exec cargo test --workspace "$@"
