#!/usr/bin/env bash
# Set-up on a fresh machine, idempotent (a second run takes seconds): RabbitMQ and Redis
# running, the wasm toolchain (Debian packages) and the extractor component built, and
# what the tests use besides Rust: the Python example's packages, promtool (Debian's
# `prometheus`) and a Compose client (Debian's `docker-compose`) to check ops/ files.
# ops/demo.sh and ops/test.sh run it themselves.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fail() { printf 'setup: %s\n' "$*" >&2; exit 1; }
"$root/ops/preflight.sh"
"$root/ops/services.sh"
"$root/ops/build-guest.sh" >/dev/null
"$root/ops/apt-install.sh" prometheus docker-compose
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore pika msgpack redis \
  || fail "pip could not install pika msgpack redis (needed by examples/producer.py and its test)"
echo "setup: done" >&2
