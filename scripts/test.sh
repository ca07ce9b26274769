#!/usr/bin/env bash
# The README's test command (and what CI runs): installs dependencies if missing, builds
# with warnings as errors, runs every ctest suite, builds the embedding example against an
# installed haul, and (in CI, or with HAUL_SANITIZE_RUN=1) runs the unit and integration
# suites again under AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

bash scripts/install-deps.sh
# The S3 test server and playwright-core for the status page's browser test (npm), installed
# once here rather than by the first test that needs them. Playwright never downloads a
# browser: the test drives Debian's Chromium.
for dir in scripts/test-servers tests/e2e; do
  # Again when the lock file changed since the last install (npm ci writes that stamp).
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
    [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
done

echo "== build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"

echo "== ctest"
ctest --test-dir build --output-on-failure

echo "== embedding example against the installed package"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install build --prefix "$prefix/usr" > /dev/null
cmake -S examples/embed -B "$prefix/build" -DCMAKE_PREFIX_PATH="$prefix/usr" > /dev/null
cmake --build "$prefix/build" -j"$jobs"
LD_LIBRARY_PATH="$prefix/usr/lib" "$prefix/build/embed_example" "$prefix/store"
# A second run resumes the finished job: nothing runs again.
LD_LIBRARY_PATH="$prefix/usr/lib" "$prefix/build/embed_example" "$prefix/store"

if [ "${CI:-}" = "true" ] || [ "${HAUL_SANITIZE_RUN:-}" = "1" ]; then
  echo "== ASan + UBSan"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DHAUL_SANITIZE=ON -DHAUL_BUILD_BENCH=OFF
  # serve_test drives the sanitized haul binary, so the HTTP API runs under ASan too.
  cmake --build build-asan -j"$jobs" --target unit_tests integration_tests haul serve_test cli_test
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -R 'unit_tests|integration_tests|serve_test|cli_test'
fi
echo "== all tests passed"
