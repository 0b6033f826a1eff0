#!/usr/bin/env bash
# Checks the tools the set-up cannot install by itself, and names the fix for each one
# missing: Rust 1.95+ (cargo), python3, curl. Run by ops/setup.sh and ops/demo.sh.
set -euo pipefail

fail() { printf 'preflight: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || fail "cargo is missing: install Rust 1.95+ with rustup (https://rustup.rs)"
version="$(cargo --version | awk '{print $2}')"
minor="$(echo "$version" | cut -d. -f2)"
[ "$(echo "$version" | cut -d. -f1)" -gt 1 ] || [ "$minor" -ge 95 ] \
  || fail "cargo $version is too old: Rust 1.95+ is needed (rustup update stable)"
command -v python3 >/dev/null || fail "python3 is missing: apt-get install -y python3 python3-pip"
command -v curl >/dev/null || fail "curl is missing: apt-get install -y curl"
