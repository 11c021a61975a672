#!/usr/bin/env bash
# The Debian packages the tests need: PyTorch and friends (training tests), Chromium (the browser test),
# the PostgreSQL and Redis clients. Installed when missing if this runs as root with apt (CI, a fresh
# machine); otherwise it names the command and fails. `npm test` runs it first (pretest); .ci/run too.
set -euo pipefail
packages=(python3-torch libopenblas0-pthread python3-numpy python3-pytest python3-matplotlib postgresql-client redis-tools chromium fonts-liberation)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "missing Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
