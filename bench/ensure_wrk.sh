#!/usr/bin/env bash
# Make sure the `wrk` HTTP benchmarking tool is on PATH; install the Debian package if it is not.
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
  exit 0
fi

echo "bench: wrk is not installed; installing the Debian package 'wrk' with apt-get" >&2
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null || true
fi

if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: wrk is still not on PATH; install it (Debian/Ubuntu: apt-get install wrk) and rerun make bench" >&2
  exit 1
fi
echo "bench: $(wrk --version 2>&1 | head -n1)" >&2
