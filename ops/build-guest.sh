#!/usr/bin/env bash
# Builds the extractor guest (guest-extractor/) into a WebAssembly component that imports
# nothing, at target/guest/riptide_extractor.wasm, and prints that path on stdout.
#
# Why a script: `rustup target add` cannot download on our machines, so the guest is built
# with Debian's rust-web toolchain (which ships std sources and wasm-component-ld) for
# wasm32-unknown-unknown with -Zbuild-std. See ../shared/docs/WASM_TOOLCHAIN.md.
# Idempotent: installs only what is missing, and cargo makes a no-change rebuild take a second.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# GUEST_PROFILE=guest-size builds the opt-level "s" variant beside it, for the benchmarks.
profile="${GUEST_PROFILE:-guest}"
out_dir="$root/target/guest"
if [ "$profile" = guest ]; then
  out="$out_dir/riptide_extractor.wasm"
else
  out="$out_dir/riptide_extractor-$profile.wasm"
fi
guest_target_dir="$root/target/guest-build"
# binaryen: wasm-opt, run on the linked core module (ops/wasm-ld-opt.sh).
debian_packages=(rustc-web cargo-web rust-web-src rust-web-llvm binaryen)

log() { printf 'build-guest: %s\n' "$*" >&2; }

"$root/ops/apt-install.sh" "${debian_packages[@]}"

# rust-web-llvm ships /usr/bin/rust-lld as a symlink to an lld-NN it does not depend on.
"$root/ops/apt-install.sh" "$(basename "$(readlink /usr/bin/rust-lld)")"

# The pre-initializer the linker wrapper runs (ops/preinit): a host program, built with the
# first cargo on the PATH (rustup's on a workstation, Debian's in the image's guest stage),
# in a target directory of its own (it is its own workspace).
# Flags from the caller's environment (a cargo running the tests) reach neither build: they
# would rebuild the pre-initializer and std.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
log "building the pre-initializer"
cargo build -q --release --locked --manifest-path "$root/ops/preinit/Cargo.toml" \
  --target-dir "$root/target/preinit" >&2
export RIPTIDE_PREINIT="$root/target/preinit/release/riptide-preinit"

# Debian's compiler, never rustup's: only it has the std sources for this target.
unset RUSTUP_TOOLCHAIN
export PATH="/usr/bin:$PATH"
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
host_triple="$(/usr/bin/rustc -vV | sed -n 's/^host: //p')"
sysroot="$(/usr/bin/rustc --print sysroot)"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$sysroot/lib/rustlib/$host_triple/bin/wasm-component-ld"
# Fixed flags from the first build on: changing them later rebuilds std (minutes).
# simd128 (deterministic SIMD; never relaxed-simd) lets memchr and LLVM's vectorizer use
# 128-bit lanes: 2.4% fewer instructions over the dev pages, identical output.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128"
# The linear memory the component starts with, stack and static data included: room for a
# typical page's heap, which the guest allocator (guest-extractor/src/heap.rs) uses before
# it grows the memory. Given to the final link only, so std is not rebuilt for it.
initial_memory_mib="${GUEST_INITIAL_MEMORY_MIB:-4}"

# LLVM's inliner, in the LTO step where the whole guest is optimized at once (so given to
# this crate only, std is not rebuilt), inlines more than its default 225: in the sandbox
# every call saved is also a save and reload of the fuel counter. Over the dev pages, 4.553 G
# -> 4.238 G instructions in the sandbox with 1000 (400: no change, 700: 4.436 G, 3000:
# 4.136 G but a 5 MB module that takes 9 s to compile), output identical on all 585 pages.
inline_threshold="${GUEST_INLINE_THRESHOLD:-1000}"

log "building guest component with $(/usr/bin/rustc --version)"
(
  cd "$root/guest-extractor"
  /usr/bin/cargo rustc -q --lib --crate-type cdylib --profile "$profile" --target wasm32-unknown-unknown \
    -Zbuild-std=std,panic_abort --target-dir "$guest_target_dir" \
    --features component -- -C "link-arg=--initial-memory=$((initial_memory_mib << 20))" \
    -C "link-arg=--wasm-ld-path=$root/ops/wasm-ld-opt.sh" \
    -C "llvm-args=-inline-threshold=$inline_threshold" >&2
)

built="$guest_target_dir/wasm32-unknown-unknown/$profile/riptide_extractor.wasm"
magic="$(head -c 8 "$built" | od -An -tx1 | tr -d ' \n')"
if [ "$magic" != "0061736d0d000100" ]; then
  log "$built is not a component (magic $magic); is the linker wasm-component-ld?"
  exit 1
fi
mkdir -p "$out_dir"
if ! cmp -s "$built" "$out"; then
  cp "$built" "$out.tmp" && mv "$out.tmp" "$out"
fi
echo "$out"
