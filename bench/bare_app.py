"""The baseline for `make bench`: the smallest Flask app, one JSON route, no extensions.

Served by gunicorn with the same worker settings as the real app, so the ratio of the real app's
throughput to this one is the cost of our own code (middleware, auth, database) on this machine.
"""
from flask import Flask

app = Flask(__name__)


@app.get("/bare")
def bare():
    return {"status": "ok"}
