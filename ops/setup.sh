#!/usr/bin/env bash
# One-time set-up on a fresh machine: RabbitMQ and Redis running, the wasm toolchain
# (Debian packages) and the extractor component built, the example producer's Python
# packages installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v cargo >/dev/null || { echo "setup: cargo is missing; install Rust 1.95+ (rustup)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "setup: python3 is missing; apt-get install -y python3 python3-pip" >&2; exit 1; }
"$root/ops/services.sh"
"$root/ops/build-guest.sh"
python3 -m pip install -q --disable-pip-version-check pika msgpack redis
echo "setup: done. Next: cargo build --release --workspace, then ops/demo.sh" >&2
