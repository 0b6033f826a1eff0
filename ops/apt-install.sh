#!/usr/bin/env bash
# Installs the Debian packages given that are not installed yet (no recommends), or, when
# not root, says which command to run. The one place the ops scripts install packages.
set -euo pipefail

missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  printf 'apt-install: missing Debian packages: %s; run: sudo apt-get install -y --no-install-recommends %s\n' \
    "${missing[*]}" "${missing[*]}" >&2
  exit 1
fi
command -v apt-get >/dev/null || { echo "apt-install: this is not a Debian machine; install ${missing[*]} by hand" >&2; exit 1; }
printf 'apt-install: installing %s\n' "${missing[*]}" >&2
apt-get -o DPkg::Lock::Timeout=600 update -q >&2
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >&2
