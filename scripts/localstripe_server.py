"""Run the `localstripe` server (a local, stateful stand-in for Stripe's API) for tests, the
benchmark and `make run`.

Two changes to localstripe's own start-up: it listens on 127.0.0.1 only (it holds customers'
emails and accepts webhook configuration from anyone who can reach it), and it keeps its store in
memory (it would save it after every write to one fixed file, /tmp/localstripe.pickle, which two
instances on one machine corrupt, and which grows slower with every write).

    python scripts/localstripe_server.py --port 8420
"""
import argparse
import logging

from aiohttp import web
from localstripe import resources, server

resources.Store.try_load_from_disk = lambda self: None
resources.Store.dump_to_disk = lambda self: None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    access = logging.getLogger("aiohttp.access")
    access.setLevel(logging.INFO)
    access.addHandler(logging.StreamHandler())
    web.run_app(server.app, host=args.host, port=args.port, access_log=access, print=None)


if __name__ == "__main__":
    main()
