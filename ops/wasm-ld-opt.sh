#!/usr/bin/env bash
# The guest's wasm-ld: links the core module as wasm-ld does (less the post-return exports,
# below), then optimizes it in place with binaryen's wasm-opt -O3 after pre-initializing it
# ($RIPTIDE_PREINIT, ops/preinit), before wasm-component-ld makes it a component
# (build-guest.sh passes this script as wasm-component-ld's --wasm-ld-path and sets
# RIPTIDE_PREINIT). LLVM has optimized each function already; wasm-opt works on the linked
# module as a whole.
set -euo pipefail
if [ "${1:-}" = "-flavor" ]; then shift 2; fi
# The exports are lifted without post-return functions. wit-bindgen exports a
# `cabi_post_<export>` for each export whose result is on the guest's heap, to free it
# after the host has read it; here every instance makes one call and is discarded with its
# memory, so the freeing is wasted, and Wasmtime resolves each post-return function at every
# instantiation (six of them: 14% of the host's instructions for a trivial job). Without
# the `--export` rustc passes for them, the linker drops them, and wasm-component-ld lifts
# each export without a post-return, as the component model allows.
output=""
linker_args=()
previous=""
post_returns=0
for arg in "$@"; do
  case "$previous" in -o) output="$arg" ;; esac
  case "$previous:$arg" in
    *:--output=*) output="${arg#--output=}"; linker_args+=("$arg") ;;
    --export:cabi_post_*) unset 'linker_args[-1]'; post_returns=$((post_returns + 1)) ;;
    *:--export=cabi_post_*) post_returns=$((post_returns + 1)) ;;
    *) linker_args+=("$arg") ;;
  esac
  previous="$arg"
done
[ "$post_returns" -gt 0 ] || {
  echo "wasm-ld-opt: no cabi_post_* export among the linker's arguments; has wit-bindgen changed?" >&2
  exit 1
}
rust-lld -flavor wasm "${linker_args[@]}"
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
