#!/usr/bin/env bash
# The property harness for as long as you give it: `ops/fuzz.sh 3600` runs the extractor's
# properties (mutated corpus pages and hostile shapes, natively and in the sandbox) and the
# job decoder's, round after round with a new seed and many cases, for about that many
# seconds. A failure stops it and prints the seed that reproduces it:
#   PROPTEST_RNG_SEED=<seed> PROPTEST_CASES=<cases> cargo test --release -p riptide-worker --test properties
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:?usage: ops/fuzz.sh SECONDS}"
cases="${PROPTEST_CASES:-256}"
"$root/ops/build-guest.sh" >/dev/null
cd "$root"
cargo test --release -p riptide-worker --test properties --no-run
cargo test --release -p riptide-shared --lib --no-run
deadline=$(( $(date +%s) + seconds ))
round=0
while (( $(date +%s) < deadline )); do
  round=$((round + 1))
  seed="$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')"
  echo "fuzz: round $round, seed $seed, $cases cases per property" >&2
  if ! PROPTEST_RNG_SEED="$seed" PROPTEST_CASES="$cases" \
      cargo test -q --release -p riptide-worker --test properties \
    || ! PROPTEST_RNG_SEED="$seed" PROPTEST_CASES="$cases" \
      cargo test -q --release -p riptide-shared --lib properties; then
    echo "fuzz: failed in round $round; reproduce with PROPTEST_RNG_SEED=$seed PROPTEST_CASES=$cases" >&2
    exit 1
  fi
done
echo "fuzz: $round rounds in ${seconds} s, no failure" >&2
