#!/usr/bin/env bash
# The guest's wasm-ld: links the core module as wasm-ld does, then optimizes it in place with
# binaryen's wasm-opt -O3 after pre-initializing it ($RIPTIDE_PREINIT, ops/preinit), before
# wasm-component-ld makes it a component (build-guest.sh passes this script as
# wasm-component-ld's --wasm-ld-path and sets RIPTIDE_PREINIT). LLVM has optimized each
# function already; wasm-opt works on the linked module as a whole.
set -euo pipefail
if [ "${1:-}" = "-flavor" ]; then shift 2; fi
output=""
previous=""
for arg in "$@"; do
  case "$previous" in -o) output="$arg" ;; esac
  case "$arg" in --output=*) output="${arg#--output=}" ;; esac
  previous="$arg"
done
rust-lld -flavor wasm "$@"
[ -n "$output" ] || { echo "wasm-ld-opt: no -o among the linker's arguments" >&2; exit 1; }
# Runs the module's warm-up once and keeps the memory it leaves as the initial memory.
# Before wasm-opt: Wizer leaves an empty passive data segment for each original one, which
# Wasmtime would set up for every instance (38 against 9.6 us per job); wasm-opt removes
# them, unused, and packs the snapshot's segments.
"${RIPTIDE_PREINIT:?build-guest.sh sets RIPTIDE_PREINIT to the riptide-preinit binary}" "$output" "$output"
# The features the guest is built with, and no others (relaxed SIMD stays out).
# `-g` keeps the name section (function names for profilers and backtraces); the code is the same.
wasm-opt -g -O3 --enable-simd --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types \
  "$output" -o "$output"
