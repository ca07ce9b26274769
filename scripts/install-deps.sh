#!/usr/bin/env bash
# Installs the Debian 12 packages haul builds, tests and runs with.
# Idempotent and non-interactive: packages already present are not fetched again.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates
  libcaf-dev librocksdb-dev libspdlog-dev libboost-test-dev
  libcurl4-openssl-dev libtomlplusplus-dev libcli11-dev nlohmann-json3-dev
  libcpp-httplib-dev libsqlite3-dev libssl-dev zlib1g-dev libzstd-dev
  sqlite3 zstd clang-format
  # The upload tests' own servers (scripts/test-servers): Debian's nginx has the WebDAV
  # module built in. Each test starts a private instance on a free port, so the system
  # service that the package may start on port 80 is never used.
  nginx
  # The status page's end-to-end test drives Debian's Chromium through playwright-core (npm,
  # tests/e2e); Playwright's own browser download is never used.
  chromium
)
# node runs s3rver and the stall upstream. Debian's npm conflicts with other node builds
# (nodesource's nodejs ships its own npm), so Debian's are added only when npm is missing.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
