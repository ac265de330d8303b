#!/usr/bin/env bash
# `make test`: the whole suite. The browser tests (tests/portal) run beside the rest, in a second
# pytest process with a database of its own: they wait on Chromium far more than they compute, so on
# two cores the two together take little longer than the rest alone. With PYTEST_ARGS (a file, -k...)
# it is one process, as asked. Exit status: failed if either failed; each log printed whole.
set -u
python="$1"; shift
if [ "$#" -gt 0 ]; then
  exec "$python" -m pytest -q "$@"
fi
browser_db="${TEST_DATABASE_URL:-}"
case "$browser_db" in
  postgresql*) browser_db="${browser_db}_browser" ;;  # its own database beside the rest's
esac
log=$(mktemp)
TEST_DATABASE_URL="$browser_db" "$python" -m pytest -q tests/portal >"$log" 2>&1 &
browser=$!
"$python" -m pytest -q --ignore=tests/portal
rest=$?
wait "$browser"
browser_status=$?
echo "== the browser tests (tests/portal)"
cat "$log"
rm -f "$log"
[ "$rest" -eq 0 ] && [ "$browser_status" -eq 0 ]
