#!/usr/bin/env bash
# Sets up whatever is missing, builds, and runs the whole test suite:
#   1. every suite (unit, fuzz, integration, security) in build/;
#   2. the unit tests, fuzzers and attack tests (so cdna-vmm itself) again
#      under AddressSanitizer + UBSan in build-asan/.
# Ends with one line: "tests: N passed, N failed, N skipped".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

bash scripts/setup.sh build || exit 1

if [ ! -f build-asan/build.ninja ]; then
	mkdir -p build-asan
	cp -r build/dpdk-sdk build-asan/ 2>/dev/null
	meson setup build-asan "$top" -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debug >/dev/null ||
		{ echo "test: meson setup of build-asan failed"; exit 1; }
fi
ninja -C build-asan >/dev/null || { ninja -C build-asan; exit 1; }

rc=0
meson test -C build --print-errorlogs || rc=1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
ASAN_OPTIONS=detect_leaks=1 \
	meson test -C build-asan --suite unit --suite fuzz --suite security --print-errorlogs || rc=1

# One closing line over both runs, from meson's own logs.
python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, sys
p = f = s = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            p += 1
        elif r == "SKIP":
            s += 1
        else:
            f += 1
print(f"tests: {p} passed, {f} failed, {s} skipped")
PY
exit $rc
