#!/usr/bin/env bash
# One-time set-up on a fresh machine: the wasm toolchain (Debian packages), RabbitMQ and
# Redis running, the extractor component built, and the workspace built in release mode.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v cargo >/dev/null || { echo "setup: cargo is missing; install Rust 1.95+ (rustup)" >&2; exit 1; }
"$root/ops/services.sh"
"$root/ops/build-guest.sh"
cd "$root" && cargo build --release --workspace
echo "setup: done. Try: target/release/riptide-worker extract --url https://example.com/ some-page.html" >&2
