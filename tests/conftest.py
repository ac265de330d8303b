"""Test fixtures: `app`, `client`, `db` (a transaction per test), factories, `auth`, `count_queries`.

The suite runs on PostgreSQL when TEST_DATABASE_URL names one or a server answers on
127.0.0.1:5432 (database `telehealth_test`, dropped and rebuilt by migrations at the start), and on
a fresh SQLite file otherwise (or with TEST_DATABASE_URL=sqlite://).
"""
from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, make_url

from telehealth import create_app
from telehealth.extensions import db as _db
from telehealth.extensions import limiter

PASSWORD = "correct horse battery staple"
# One database per test run, so two runs on one machine (a developer and a helper) never collide.
DEFAULT_PG_URL = f"postgresql://postgres@127.0.0.1:5432/telehealth_test_{os.getpid()}"


def _postgres_answers(host: str = "127.0.0.1", port: int = 5432) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def resolve_database_url(tmp_dir) -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_dir}/test.db" if url in ("sqlite://", "sqlite:///:memory:") else url
    if not url and _postgres_answers():
        url = DEFAULT_PG_URL
    if url:
        recreate_postgres_database(url)
        return url
    return f"sqlite:///{tmp_dir}/test.db"


def recreate_postgres_database(url: str) -> None:
    import psycopg

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def drop_postgres_database(url: str) -> None:
    import psycopg

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with contextlib.suppress(psycopg.Error), psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def production_settings(**overrides) -> dict:
    """Settings a production app starts with: real-looking secrets and someone to page."""
    from cryptography.fernet import Fernet

    settings = {"ENV_NAME": "production", "SECRET_KEY": "s3cret-" + "x" * 30,
                "SQLALCHEMY_DATABASE_URI": "postgresql://postgres@127.0.0.1/whatever",
                "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                "STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_real",
                "TWILIO_API_KEY_SECRET": "real-video-secret", "PHARMACY_WEBHOOK_SECRET": "real-pharmacy-secret",
                "TWILIO_AUTH_TOKEN": "real-twilio-auth-token", "ON_CALL_FALLBACK_PHONE": "+13125550190"}
    settings.update(overrides)
    return settings


def make_test_app(database_url: str, **overrides):
    application = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url, **overrides})
    application.test_client_class = IsolatedClient
    return application


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = resolve_database_url(tmp_path_factory.mktemp("db"))
    yield url
    if url == DEFAULT_PG_URL:
        drop_postgres_database(url)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.1):
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def _answers(request: urllib.request.Request | str) -> bool:
    """The server answered at all (an HTTP error status is an answer)."""
    try:
        urllib.request.urlopen(request, timeout=1).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


@contextlib.contextmanager
def local_server(script: str, probe: str, headers: dict | None = None, log_name: str | None = None):
    """Start one of scripts/ on a free port, wait until `probe` (a path) answers, yield its URL,
    stop it afterwards. Its output goes to a log file in TMPDIR when `log_name` is given."""
    port = free_port()
    path = Path(__file__).resolve().parent.parent / "scripts" / script
    log = (open(Path(os.environ.get("TMPDIR", "/tmp")) / f"{log_name}-{port}.log", "w")  # noqa: SIM115
           if log_name else None)
    proc = subprocess.Popen([sys.executable, str(path), "--port", str(port)], stdout=log or subprocess.DEVNULL,
                            stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(urllib.request.Request(url + probe, headers=headers or {})), timeout=30)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if log:
            log.close()


@pytest.fixture(scope="session")
def localstripe_url():
    """A real localstripe server (Stripe's API, stateful, signed webhooks) for the whole session."""
    with local_server("localstripe_server.py", "/v1/customers", headers={"Authorization": "Bearer sk_test_x"},
                      log_name="localstripe") as url:
        yield url


@pytest.fixture(scope="session")
def pharmacy_url():
    """The local partner pharmacy (scripts/pharmacy_server.py) for the whole session."""
    with local_server("pharmacy_server.py", "/orders/none") as url:
        yield url


@pytest.fixture(scope="session")
def twilio_url():
    """The local Twilio (scripts/twilio_server.py: Twilio's REST API, faults, signed inbound texts)."""
    with local_server("twilio_server.py", "/_control/messages") as url:
        yield url


# The client gives up on Twilio after this long in tests, so the fake's "timeout" fault is quick.
TEST_TWILIO_TIMEOUT_SECONDS = 1.0


@pytest.fixture(scope="session")
def app(database_url, localstripe_url, pharmacy_url, twilio_url):
    """One app for the session, its schema built by the migrations (not create_all)."""
    from flask_migrate import upgrade

    application = make_test_app(database_url, STRIPE_API_BASE=localstripe_url, PHARMACY_API_BASE=pharmacy_url,
                                TWILIO_API_BASE=twilio_url, TWILIO_TIMEOUT_SECONDS=TEST_TWILIO_TIMEOUT_SECONDS)
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        _db.engine.dispose()


@pytest.fixture(scope="session")
def is_postgres(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


class _ConnectionBoundSession(FlaskSession):
    """Flask-SQLAlchemy's session picks an engine itself; in a test every statement must go
    through the test's connection, inside its transaction."""

    def get_bind(self, *args, **kwargs):
        return self.bind


@pytest.fixture
def db(app):
    """The database inside a transaction that is rolled back after the test; commits in the
    code under test become savepoints."""
    with app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        original = _db.session
        _db.session = _db._make_scoped_session({"bind": connection, "join_transaction_mode": "create_savepoint",
                                                "expire_on_commit": False,
                                                "class_": _ConnectionBoundSession})
        limiter.reset()
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            transaction.rollback()
            connection.close()


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production, even though the test body
    holds one open (otherwise `g`, and Flask-Login's cached user, would leak between requests)."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


_seq = itertools.count(1)


def _npi(n: int) -> str:
    from telehealth.schemas.common import luhn_ok

    base = f"{100000000 + n:09d}"
    return next(base + str(d) for d in range(10) if luhn_ok("80840" + base + str(d)))


_hashed: dict[str, str] = {}


def _make_user(db, role: str = "patient", *, states=("NY",), time_zone="America/New_York", email=None,
               license_expires=None, second_factor: bool | None = None, **fields):
    """A committed user of `role` with password PASSWORD and the role's profile; physicians and
    admins (who must have one) with a second factor of secret TEST_TOTP_SECRET, unless
    `second_factor=False` (True enrols another role)."""
    from telehealth.models import CoachProfile, PatientProfile, PhysicianLicense, PhysicianProfile, Role, User
    from telehealth.services.accounts.passwords import hash_password

    if "hash" not in _hashed:
        _hashed["hash"] = hash_password(PASSWORD)
    n = next(_seq)
    user = User(email=email or f"{role}{n}@example.org", password_hash=_hashed["hash"], role=Role(role),
                display_name=fields.pop("display_name", f"{role.title()} {n}"), time_zone=time_zone)
    if role == "patient":
        profile = PatientProfile(legal_first_name=fields.pop("legal_first_name", "Pat"),
                                 legal_last_name=fields.pop("legal_last_name", f"Ient{n}"),
                                 state_of_residence=fields.pop("state", states[0]),
                                 phone_e164=fields.pop("phone", "+12125550100"))
        profile.date_of_birth = fields.pop("date_of_birth", date(1985, 5, 17))
        profile.shipping_address = fields.pop("shipping_address", {
            "line1": f"{n} Main St", "line2": "", "city": "Albany", "state": "NY", "postal_code": "12207"})
        profile.emergency_contact = {"name": "Em Contact", "relationship": "sibling", "phone": "+12125550111"}
        profile.mental_health_provider = None
        user.patient_profile = profile
    elif role == "physician":
        expires = license_expires or date.today() + timedelta(days=365)
        user.physician_profile = PhysicianProfile(
            npi=_npi(n), dea_number=None, dea_expires_on=None,
            licenses=[PhysicianLicense(state=s, license_number=f"{s}{n}", expires_on=expires) for s in states])
    elif role == "coach":
        user.coach_profile = CoachProfile(bio="")
    for key, value in fields.items():
        setattr(user, key, value)
    db.session.add(user)
    db.session.commit()
    if second_factor if second_factor is not None else role in ("physician", "admin"):
        enrol_second_factor(db, user)
    return user


# Every test physician's and admin's authenticator secret (create_user enrols them with it).
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enrol_second_factor(db, user, secret: str = TEST_TOTP_SECRET):
    """A confirmed TOTP factor for `user`, as enrolment leaves it (without recovery codes)."""
    from telehealth.clock import now
    from telehealth.models import StaffTwoFactor

    db.session.add(StaffTwoFactor(user_id=user.id, secret=secret, confirmed_at=now(), failed_attempts=0))
    db.session.commit()


class SecondFactorCodes:
    """Fresh second-factor codes for a test: `code(user)` is a code the app accepts now, never one
    the user already used. The app accepts the current 30-second step and the next; when both were
    used (a third signing within one step), the test clock moves to the next unused step (the
    active time-machine travel is shifted, or a ticking one is started until the test ends)."""

    def __init__(self, db):
        self._db = db
        self._started = []

    def code(self, user, secret: str = TEST_TOTP_SECRET) -> str:
        import pyotp
        from sqlalchemy import select

        from telehealth.clock import now
        from telehealth.models import StaffTwoFactor

        last = self._db.session.scalar(select(StaffTwoFactor.last_used_step)
                                       .where(StaffTwoFactor.user_id == user.id))
        step = int(now().timestamp()) // 30
        for candidate in (step, step + 1):
            if last is None or candidate > last:
                return pyotp.TOTP(secret).at(candidate * 30)
        self._advance((last + 1) * 30 - now().timestamp() + 1)  # one second into the first unused step
        return pyotp.TOTP(secret).at((last + 1) * 30)

    def _advance(self, seconds: float) -> None:
        import time_machine

        from telehealth.clock import now

        if time_machine.traveller_stack:
            time_machine.traveller_stack[-1].shift(seconds)
        else:
            travel = time_machine.travel(now() + timedelta(seconds=seconds), tick=True)
            travel.start()
            self._started.append(travel)

    def stop(self) -> None:
        while self._started:
            self._started.pop().stop()


@pytest.fixture
def totp(db):
    """totp.code(user): a fresh, valid second-factor code for an enrolled user (see SecondFactorCodes)."""
    codes = SecondFactorCodes(db)
    yield codes
    codes.stop()


@pytest.fixture
def create_user(db):
    """create_user(role, **fields) -> User, with password PASSWORD and the role's profile."""
    return lambda role="patient", **fields: _make_user(db, role, **fields)


class AuthActions:
    def __init__(self, client, create_user):
        self._client = client
        self._create_user = create_user

    def login(self, user_or_email, password: str = PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        return self._client.post("/api/v1/auth/login", json={"email": email, "password": password})

    def logout(self):
        return self._client.post("/api/v1/auth/logout", json={})

    def as_role(self, role: str, **fields):
        """Create a user of `role`, log in as them, return the user."""
        user = self._create_user(role, **fields)
        response = self.login(user)
        assert response.status_code == 200, response.get_json()
        return user


@pytest.fixture
def auth(client, create_user):
    return AuthActions(client, create_user)


@pytest.fixture
def count_queries(app):
    """with count_queries() as counter: ...; counter.count is the number of SQL statements run."""

    class Counter:
        count = 0
        statements: list[str]

    @contextlib.contextmanager
    def counting():
        counter = Counter()
        counter.statements = []

        def before(conn, cursor, statement, parameters, context, executemany):
            counter.count += 1
            counter.statements.append(statement)

        engine = _db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


def error_of(response) -> dict:
    """The `error` object of a 4xx/5xx response, asserting the one error shape."""
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


# --------------------------------------------------------------------------- live server and real commits


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over HTTP in a thread, so localstripe can deliver webhooks to it."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _post_form(url: str, fields: dict) -> None:
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST"), timeout=5):
        pass


@pytest.fixture
def committed(app):
    """Real commits (for tests where another thread or process must see the data: webhooks
    delivered over HTTP, concurrent requests). Every row is deleted afterwards."""
    with app.app_context():
        limiter.reset()
        # The test body's own session commits each statement: it never sits in an open transaction
        # that would hold SQLite's write lock while the app serves the test's requests.
        connection = _db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        _db.session.registry.set(_ConnectionBoundSession(db=_db, bind=connection))
        yield _db
        _db.session.remove()
        connection.close()
        with _db.engine.begin() as conn:
            if conn.dialect.name == "sqlite":  # rows referring to rows of their own table (versions)
                conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def stripe_webhooks(app, localstripe_url, live_server, committed):
    """localstripe delivers its signed webhooks to the live app during the test."""
    _post_form(f"{localstripe_url}/_config/webhooks/telehealth",
               {"url": f"{live_server}/webhooks/stripe", "secret": app.config["STRIPE_WEBHOOK_SECRET"]})
    yield
    # Point deliveries at a closed port, then let any in flight finish before the rows are deleted.
    _post_form(f"{localstripe_url}/_config/webhooks/telehealth",
               {"url": f"http://127.0.0.1:{free_port()}/", "secret": "unused"})
    time.sleep(1.5)


def post_concurrently(url: str, bodies: list[bytes], headers: dict | list[dict]) -> list[tuple[int, dict]]:
    """POST each body from its own thread, released together; the (status, JSON) answers."""
    import json

    header_list = headers if isinstance(headers, list) else [headers] * len(bodies)
    answers: list[tuple[int, dict]] = []
    start = threading.Barrier(len(bodies))

    def send(body: bytes, head: dict) -> None:
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json", **head})
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answers.append((response.status, json.loads(response.read() or b"{}")))
        except urllib.error.HTTPError as exc:
            answers.append((exc.code, json.loads(exc.read() or b"{}")))

    threads = [threading.Thread(target=send, args=pair) for pair in zip(bodies, header_list, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


# --------------------------------------------------------------------------- the local Twilio


class FakeTwilio:
    """Control of scripts/twilio_server.py from a test: faults, what it received, inbound texts."""

    def __init__(self, url: str):
        self.url = url

    def _call(self, path: str, payload: dict | None = None):
        import json

        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=data, method="GET" if data is None else "POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        self._call("/_control/reset", {})

    def fault(self, mode: str, count: int = 1, on: str = "create") -> None:
        """The next `count` sends (`on="create"`) or lookups of sent texts (`on="list"`) fail as `mode`."""
        self._call("/_control/faults", {"mode": mode, "count": count, "on": on})

    def configure(self, **settings) -> None:
        self._call("/_control/config", settings)

    def messages(self, body: str | None = None, to: str | None = None) -> list[dict]:
        return [m for m in self._call("/_control/messages")["messages"]
                if (body is None or m["body"] == body) and (to is None or m["to"] == to)]

    def seed(self, to: str, count: int, body: str = "Seeded text") -> None:
        """`count` messages to `to`, taken by the fake now (as if sent by someone else), in one call."""
        self._call("/_control/seed", {"to": to, "count": count, "body": body})

    def inbound(self, from_: str, body: str, message_sid: str | None = None) -> dict:
        payload = {"from": from_, "body": body}
        if message_sid:
            payload["message_sid"] = message_sid
        return self._call("/_control/inbound", payload)


@pytest.fixture
def twilio(app, twilio_url):
    fake = FakeTwilio(twilio_url)
    fake.reset()
    fake.configure(auth_token=app.config["TWILIO_AUTH_TOKEN"], webhook_url=None, public_url=None)
    yield fake
    fake.reset()
