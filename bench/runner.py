"""The shared runner of `make bench`: settings, the bench database, the two gunicorn servers,
requests with urllib, and wrk (`Runner.measure`: one scenario's warm-up, then its measured run).

The benchmark groups (scenarios.py, ops_board.py, care.py, outbox.py) build `Scenario`s and hand
them to a `Runner`; the table, the ratios and the validity of each result are in report.py, and
the order of a run is bench/run.py's `main()`. Code that imports the app (telehealth.*) is not
here: it is in snippets.py, run in a subprocess with `python_snippet`.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # config and tests (the scenarios use tests.screening_data)
BENCH_DIR = REPO / "bench"
OUT_DIR = REPO / ".bench"
BIN = Path(sys.executable).parent  # the venv's bin when run as .venv/bin/python
POST_JSON_LUA = BENCH_DIR / "post_json.lua"
P95_LUA = BENCH_DIR / "p95.lua"

# Another name lets two runs share one PostgreSQL server without dropping each other's database.
DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "telehealth_bench")
if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", DB_NAME):
    sys.exit(f"bench: error: BENCH_DATABASE_NAME must be a plain lower-case identifier, not {DB_NAME!r}")
ADMIN_URL = os.environ.get("BENCH_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE_URL = ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
SESSION_COOKIE = "telehealth_session"
DEMO_EMAIL = "patient@demo.telehealth"
DEMO_PASSWORD = "demo-password-2026"
BASELINE = "bare /bare"


class BenchError(RuntimeError):
    """A setup step failed; the message says which and what to do."""


def _env_number(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BenchError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise BenchError(f"{name} must be at least {minimum}, not {value}")
    return value


@dataclass
class Settings:
    """The run's knobs (bench/README.md): BENCH_DURATION, BENCH_WARMUP, BENCH_CONNECTIONS, ..."""
    duration: int
    warmup: int
    connections: int
    threads: int
    workers: int

    @classmethod
    def from_environment(cls) -> Settings:
        settings = cls(duration=_env_number("BENCH_DURATION", 8, 1), warmup=_env_number("BENCH_WARMUP", 2, 0),
                       connections=_env_number("BENCH_CONNECTIONS", 16, 1),
                       threads=_env_number("BENCH_THREADS", 2, 1), workers=_env_number("BENCH_WORKERS", 2, 1))
        if settings.connections < settings.threads:
            raise BenchError(f"BENCH_CONNECTIONS ({settings.connections}) must be at least "
                             f"BENCH_THREADS ({settings.threads})")
        return settings


# ---------------------------------------------------------------------------------------------
# Scenarios


@dataclass
class Scenario:
    name: str
    target: str                       # "bare" or "app": which server the path is requested from
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"
    body: str | None = None           # JSON text (or `content_type`); implies the POST Lua script
    content_type: str = "application/json"
    script: Path | None = None        # a wrk Lua script; defaults to post_json.lua when body is set
    expect_status: tuple[int, ...] = (200,)  # of the one check request before wrk
    # Extra environment for the Lua script, and for the warm-up run when it must differ (a
    # booking scenario gives the warm-up its own slots so the measured run gets fresh ones).
    script_env: dict[str, str] = field(default_factory=dict)
    warmup_script_env: dict[str, str] | None = None
    # Answers that keep the wrk run valid, as counted by a script that prints "bench-status"
    # lines (book_slots.lua): "<status> <error code>" or "<status> ok". None: only 2xx/3xx.
    valid_answers: tuple[str, ...] | None = None
    # How many different requests the script sends before it repeats itself (booking: slots).
    distinct_requests: int | None = None

    def lua_script(self) -> Path | None:
        if self.script is not None:
            return self.script
        return POST_JSON_LUA if self.body is not None or self.method != "GET" else None

    def lua_env(self, warmup: bool = False) -> dict[str, str]:
        if self.lua_script() is None:
            return {}
        extra = self.warmup_script_env if warmup and self.warmup_script_env is not None else self.script_env
        return {"BENCH_METHOD": self.method, "BENCH_BODY": self.body if self.body is not None else "{}",
                "BENCH_CONTENT_TYPE": self.content_type, **extra}


def baseline_scenario() -> Scenario:
    """The scenario every ratio refers to; p95.lua for the ops board's and care team's p95 ratios."""
    return Scenario(BASELINE, "bare", "/bare", script=P95_LUA)


# ---------------------------------------------------------------------------------------------
# Database and app preparation


def recreate_database() -> None:
    try:
        import psycopg
    except ImportError:
        raise BenchError("psycopg is not installed in this Python; run `make install`") from None
    try:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DB_NAME}")
    except psycopg.OperationalError as exc:
        raise BenchError(
            f"PostgreSQL does not answer at {ADMIN_URL} ({str(exc).strip().splitlines()[0]}).\n"
            "  make bench needs PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres;\n"
            "  start it (e.g. `pg_ctlcluster 15 main start`) and rerun."
        ) from None


def app_environment(horizon_days: int = 30) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "TELEHEALTH_ENV": "development",
        "DATABASE_URL": DATABASE_URL,
        "LOGIN_RATE_LIMIT": "1000000 per minute",
        "ASSESSMENT_RATE_LIMIT": "1000000 per minute",
        "BOOKING_HORIZON_DAYS": str(horizon_days),
        "LOG_LEVEL": "WARNING",
        "FLASK_APP": "wsgi.py",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def run_flask(env: dict[str, str], *args: str) -> None:
    cmd = [str(BIN / "flask"), *args]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise BenchError(f"`flask {' '.join(args)}` failed (exit {proc.returncode}):\n"
                         f"{proc.stdout}{proc.stderr}".rstrip())


def python_snippet(snippet: str, env: dict[str, str], tag: str, *args: str, timeout: int = 300,
                   what: str | None = None) -> Any:
    """Run a snippets.py snippet with the venv's python; return the JSON it prints after `tag`."""
    proc = subprocess.run([sys.executable, "-c", snippet, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)
    found = re.search(rf"^{tag} (\{{.*\}})$", proc.stdout, re.M)
    if proc.returncode != 0 or not found:
        raise BenchError(f"{what or f'a bench snippet ({tag})'} failed (exit {proc.returncode}):\n"
                         f"{proc.stdout}{proc.stderr}".rstrip())
    return json.loads(found.group(1))


# ---------------------------------------------------------------------------------------------
# Servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn process group started by us, and only ever stopped by its own pid."""

    def __init__(self, name: str, app_spec: str, ready_path: str, env: dict[str, str],
                 workers: int, chdir: Path | None = None):
        self.name = name
        self.app_spec = app_spec
        self.ready_path = ready_path
        self.env = env
        self.workers = workers
        self.chdir = chdir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = OUT_DIR / f"gunicorn-{name}.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [str(BIN / "gunicorn"), "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
               "--log-level", "warning"]
        if self.chdir is not None:
            cmd += ["--chdir", str(self.chdir)]
        cmd.append(self.app_spec)
        log = open(self.log_path, "wb")
        try:
            # Own session: a Ctrl-C in the terminal does not reach gunicorn; stop() ends it.
            self.proc = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()

    def wait_ready(self, timeout: float = 30.0) -> None:
        assert self.proc is not None
        url = self.base_url + self.ready_path
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"gunicorn ({self.name}) exited with {self.proc.returncode} before answering "
                                 f"{self.ready_path}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
                    last_error = f"HTTP {resp.status}"
            except urllib.error.HTTPError as exc:
                last_error = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                last_error = str(exc)
            time.sleep(0.2)
        raise BenchError(f"gunicorn ({self.name}) did not answer 200 on {url} within {timeout:.0f}s "
                         f"(last: {last_error}):\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        # The group is the one start_new_session created for this gunicorn: master and its workers.
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # Workers orphaned by a master that died first are still in the group.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "  (no log)"
        tail = text.strip().splitlines()[-lines:]
        return "\n".join("  | " + line for line in tail) or "  (log is empty)"


class Runner:
    """The app and the baseline, served by gunicorn with the same settings, and every scenario
    measured on them, in order (`results`: one dict per wrk run, for the table and the JSON)."""

    def __init__(self, env: dict[str, str], settings: Settings):
        self.settings = settings
        self.servers = {
            "bare": Server("bare", "bare_app:app", "/bare", env, settings.workers, chdir=BENCH_DIR),
            "app": Server("app", "wsgi:app", "/healthz", env, settings.workers),
        }
        self.results: list[dict[str, Any]] = []

    @property
    def app(self) -> Server:
        return self.servers["app"]

    def start(self) -> None:
        for server in self.servers.values():
            server.start()
        for server in self.servers.values():
            server.wait_ready()
        s = self.settings
        print(f"bench: gunicorn --workers {s.workers}: app on :{self.app.port}, "
              f"bare on :{self.servers['bare'].port}; wrk -t{s.threads} -c{s.connections} -d{s.duration}s "
              f"(+{s.warmup}s warm-up each)", flush=True)

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def check(self, scenario: Scenario) -> None:
        check_scenario(scenario, self.servers[scenario.target].base_url)

    def measure(self, scenario: Scenario) -> dict[str, Any]:
        """A warm-up (unless BENCH_WARMUP=0), then the measured wrk run, appended to `results`."""
        s = self.settings
        url = self.servers[scenario.target].base_url + scenario.path
        wrk_args = dict(connections=s.connections, threads=s.threads, headers=scenario.headers,
                        script=scenario.lua_script())
        print(f"bench: {scenario.name} ...", flush=True)
        if s.warmup:
            run_wrk(url, duration=s.warmup, script_env=scenario.lua_env(warmup=True), **wrk_args)
        figures, raw = run_wrk(url, duration=s.duration, script_env=scenario.lua_env(), **wrk_args)
        result = {"name": scenario.name, "target": scenario.target, "method": scenario.method,
                  "path": scenario.path, "valid_answers": scenario.valid_answers,
                  "distinct_requests": scenario.distinct_requests, **figures, "wrk_output": raw}
        self.results.append(result)
        return result

    def gunicorn_notes(self) -> None:
        for server in self.servers.values():
            if server.log_path.exists() and server.log_path.stat().st_size:
                print(f"note: gunicorn ({server.name}) logged warnings or errors; see "
                      f"{server.log_path.relative_to(REPO)}")


# ---------------------------------------------------------------------------------------------
# wrk

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _to_ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value.strip())
    if not match:
        raise ValueError(f"unknown wrk duration {value!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    if not rps:
        raise BenchError(f"could not find Requests/sec in wrk output:\n{output}")
    percentiles = {}
    dist = output.split("Latency Distribution", 1)
    if len(dist) == 2:
        for pct, value in re.findall(r"^\s+(\d+(?:\.\d+)?)%\s+(\S+)\s*$", dist[1], re.M):
            percentiles[f"p{pct}"] = round(_to_ms(value), 3)
    for pct, micros in re.findall(r"^bench-latency p(\d+) (\d+)$", output, re.M):
        percentiles[f"p{pct}"] = round(int(micros) / 1000, 3)
    if "p50" not in percentiles or "p99" not in percentiles:
        raise BenchError(f"could not find the 50% and 99% latency in wrk output (was --latency given?):\n{output}")
    total = re.search(r"^\s*(\d+) requests in ([\d.]+\w+)", output, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "requests_per_sec": float(rps.group(1)),
        "latency_ms": percentiles,
        "requests": int(total.group(1)) if total else None,
        "non_2xx_3xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": (dict(zip(("connect", "read", "write", "timeout"), map(int, sock.groups())))
                          if sock else {"connect": 0, "read": 0, "write": 0, "timeout": 0}),
        # Printed by scripts that count answers (book_slots.lua): "bench-status 409 slot_taken 3".
        "answers": ({f"{status} {code}": int(n) for status, code, n in
                     re.findall(r"^bench-status (\d+) (\S+) (\d+)$", output, re.M)} or None),
    }


def run_wrk(url: str, *, duration: int, connections: int, threads: int,
            headers: dict[str, str] | None = None, script: Path | None = None,
            script_env: dict[str, str] | None = None) -> tuple[dict[str, Any], str]:
    """Run wrk once; return the parsed figures and the raw output."""
    cmd = ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(url)
    env = dict(os.environ, **(script_env or {}), BENCH_WRK_THREADS=str(threads))
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 60)
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish within {duration + 60}s on {url}") from None
    if proc.returncode != 0:
        raise BenchError(f"wrk failed (exit {proc.returncode}) on {url}:\n{proc.stdout}{proc.stderr}".rstrip())
    return parse_wrk(proc.stdout), proc.stdout


# ---------------------------------------------------------------------------------------------
# HTTP checks with urllib


def request(url: str, *, method: str = "GET", headers: dict[str, str] | None = None,
            body: str | None = None, content_type: str = "application/json",
            timeout: float = 10) -> tuple[int, Any, bytes]:
    data = body.encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def log_in(app: Server, email: str = DEMO_EMAIL) -> str:
    body = json.dumps({"email": email, "password": DEMO_PASSWORD})
    status, headers, content = request(app.base_url + "/api/v1/auth/login", method="POST", body=body)
    if status != 200:
        raise BenchError(f"login as {email} answered HTTP {status}: {content[:300]!r}")
    for raw in headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie()
        cookie.load(raw)
        if SESSION_COOKIE in cookie:
            return cookie[SESSION_COOKIE].value
    raise BenchError(f"login answered 200 but set no {SESSION_COOKIE} cookie")


def cookie_header(session_cookie: str) -> dict[str, str]:
    return {"Cookie": f"{SESSION_COOKIE}={session_cookie}"}


def error_code(content: bytes) -> str:
    try:
        return str(json.loads(content)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "?"


def answer_key(status: int, content: bytes) -> str:
    """How answers are counted, the same as book_slots.lua: "201 ok", "409 slot_taken"."""
    return f"{status} ok" if status < 400 else f"{status} {error_code(content)}"


def answers_text(counts: dict[str, int]) -> str:
    """Answers counted by status and error code, as printed: "201 ok x20, 409 slot_taken x180"."""
    return ", ".join(f"{key} x{n}" for key, n in sorted(counts.items())) or "none"


def check_scenario(scenario: Scenario, base_url: str) -> None:
    # the previous scenario's last requests may still be queued at the workers (wrk has gone): wait them out
    status, _, content = request(base_url + scenario.path, method=scenario.method,
                                 headers=scenario.headers, body=scenario.body, content_type=scenario.content_type,
                                 timeout=60)
    if status not in scenario.expect_status:
        raise BenchError(f"scenario {scenario.name!r}: {scenario.method} {scenario.path} answered HTTP {status}, "
                         f"expected {'/'.join(map(str, scenario.expect_status))}: {content[:300]!r}")


def check_items(scenario: Scenario, base_url: str, expect_items: bool = True) -> None:
    """check_scenario, and the answer's `items` must not be empty (the ops board, the care team)."""
    check_scenario(scenario, base_url)
    _, _, content = request(base_url + scenario.path, headers=scenario.headers)
    if expect_items and not json.loads(content).get("items"):
        raise BenchError(f"scenario {scenario.name!r}: {scenario.path} found no shipments")
