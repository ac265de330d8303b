"""Run the `localstripe` server (a local, stateful stand-in for Stripe's API) for tests, the
benchmark and `make run`.

localstripe saves its whole store to one fixed file, /tmp/localstripe.pickle, after every write:
two instances on one machine (a developer's test run beside a helper's, or beside `make run`)
corrupt each other's state, and each write gets slower as the store grows. This wrapper keeps the
store in memory only; everything else is localstripe itself.

    python scripts/localstripe_server.py --port 8420
"""
import sys

from localstripe import resources, server

resources.Store.try_load_from_disk = lambda self: None
resources.Store.dump_to_disk = lambda self: None

if __name__ == "__main__":
    if "--from-scratch" not in sys.argv:
        sys.argv.append("--from-scratch")
    server.start()
