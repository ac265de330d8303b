"""The platform under the features: configuration, database and migrations, clock, logs, CLI."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import time_machine
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, inspect, select, text

from config import ConfigError
from telehealth import clock, create_app
from telehealth.models import AuditEvent, User
from tests.conftest import drop_postgres_database, make_test_app, production_settings, recreate_postgres_database

ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- configuration


def _production(**overrides):
    return create_app(production_settings(**overrides))


def test_production_starts_with_real_settings():
    app = _production()
    assert app.config["SESSION_COOKIE_SECURE"] is True and not app.config["TESTING"]


@pytest.mark.parametrize("overrides, complaint", [
    ({"SECRET_KEY": "dev-insecure-secret-key-change-me"}, "SECRET_KEY"),
    ({"SECRET_KEY": ""}, "SECRET_KEY"),
    ({"FIELD_ENCRYPTION_KEYS": None}, "FIELD_ENCRYPTION_KEYS"),
    ({"STRIPE_SECRET_KEY": "sk_test_localstripe"}, "STRIPE_SECRET_KEY"),
    ({"TWILIO_AUTH_TOKEN": "development-twilio-auth-token"}, "TWILIO_AUTH_TOKEN"),
    ({"ON_CALL_FALLBACK_PHONE": None}, "ON_CALL_FALLBACK_PHONE"),       # someone is always on call
    ({"ON_CALL_FALLBACK_PHONE": "+15005550100"}, "ON_CALL_FALLBACK_PHONE"),  # the demo number
    ({"ON_CALL_FALLBACK_PHONE": "555-0100"}, "ON_CALL_FALLBACK_PHONE"),
])
def test_production_refuses_unsafe_settings(overrides, complaint):
    with pytest.raises(ConfigError, match=complaint):
        _production(**overrides)


def test_production_refuses_to_start_without_database_url():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(TELEHEALTH_ENV="production", SECRET_KEY="s3cret-" + "x" * 30,
               FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(), STRIPE_SECRET_KEY="sk_live_x",
               STRIPE_WEBHOOK_SECRET="whsec_real", TWILIO_API_KEY_SECRET="real-video-secret",
               PHARMACY_WEBHOOK_SECRET="real-pharmacy-secret", TWILIO_AUTH_TOKEN="real-twilio-auth-token")
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "DATABASE_URL must be set" in result.stderr


def test_unknown_environment_name_is_refused():
    with pytest.raises(ConfigError):
        create_app({"ENV_NAME": "staging-ish"})


# --------------------------------------------------------------------------- database


def test_sqlite_runs_with_foreign_keys_and_wal(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path}/x.db")
    from telehealth.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_timestamps_are_utc_aware_both_ways(create_user, db):
    user = create_user("admin")
    local = datetime(2026, 3, 8, 1, 30, tzinfo=timezone(timedelta(hours=-5)))
    user.last_login_at = local
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(User, user.id).last_login_at
    assert stored == local and stored.tzinfo == timezone.utc and stored.hour == 6
    user.last_login_at = datetime(2026, 1, 1, 12, 0)  # naive: refused rather than guessed
    with pytest.raises(Exception, match="naive"):
        db.session.commit()
    db.session.rollback()


def test_encrypted_fields_survive_key_rotation(database_url, tmp_path):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    url = f"sqlite:///{tmp_path}/rotation.db"
    from flask_migrate import upgrade

    from telehealth.extensions import db
    from telehealth.models import PatientProfile

    app = make_test_app(url, FIELD_ENCRYPTION_KEYS=old)
    with app.app_context():
        upgrade()
        user = User(email="r@example.org", password_hash="x", role="patient", display_name="R", time_zone="UTC")
        profile = PatientProfile(legal_first_name="R", legal_last_name="S", state_of_residence="NY", phone_e164="+12125550100")
        profile.date_of_birth = datetime(1980, 1, 2).date()
        profile.shipping_address = {"line1": "1 A St"}
        profile.emergency_contact = {"name": "E"}
        user.patient_profile = profile
        db.session.add(user)
        db.session.commit()
        db.session.remove()
    rotated = make_test_app(url, FIELD_ENCRYPTION_KEYS=f"{new},{old}")
    with rotated.app_context():
        assert db.session.scalar(select(PatientProfile)).shipping_address == {"line1": "1 A St"}
        db.session.remove()
    wrong = make_test_app(url, FIELD_ENCRYPTION_KEYS=new)
    with wrong.app_context(), pytest.raises(RuntimeError, match="could not be decrypted"):
        db.session.scalar(select(PatientProfile)).shipping_address  # noqa: B018
        db.session.remove()


@pytest.fixture
def scratch_database_url(database_url, tmp_path):
    """A database of its own, for tests that run migrations up and down."""
    if database_url.startswith("postgresql"):
        url = database_url + "_migrations"
        recreate_postgres_database(url)
        yield url
        drop_postgres_database(url)
    else:
        yield f"sqlite:///{tmp_path}/migrations.db"


def test_migrations_and_models_agree_and_run_down_and_up(scratch_database_url):
    from flask_migrate import downgrade, upgrade

    from telehealth.extensions import db

    app = make_test_app(scratch_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        assert diff == [], diff
        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        upgrade()
        with db.engine.connect() as conn:
            assert {"users", "audit_events", "patient_profiles"} <= set(inspect(conn).get_table_names())
        db.engine.dispose()


def test_flask_db_upgrade_builds_the_schema_from_the_command_line(scratch_database_url):
    env = dict(os.environ, FLASK_APP="wsgi.py", TELEHEALTH_ENV="development", DATABASE_URL=scratch_database_url)
    flask = str(Path(sys.executable).parent / "flask")
    result = subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    engine = create_engine(scratch_database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        assert "users" in inspect(conn).get_table_names()
    engine.dispose()


# --------------------------------------------------------------------------- clock


def test_the_clock_moves_under_time_machine():
    with time_machine.travel(datetime(2030, 1, 1, 12, tzinfo=timezone.utc), tick=False) as traveller:
        assert clock.now() == datetime(2030, 1, 1, 12, tzinfo=timezone.utc)
        traveller.shift(timedelta(hours=3))
        assert clock.now().hour == 15
    assert clock.now().tzinfo is timezone.utc


def test_in_zone_shows_local_wall_time_and_refuses_naive():
    moment = datetime(2026, 7, 1, 16, tzinfo=timezone.utc)
    assert clock.in_zone(moment, "America/New_York").hour == 12
    assert clock.in_zone(moment, "America/Phoenix").hour == 9
    with pytest.raises(ValueError):
        clock.in_zone(datetime(2026, 7, 1), "UTC")


# --------------------------------------------------------------------------- logs


def test_logs_are_json_with_request_ids_and_no_phi(client, capsys, db):
    from tests.accounts.test_auth import signup_body

    root = logging.getLogger()
    handler = next(h for h in root.handlers if getattr(h, "_telehealth", False))
    stream = handler.stream
    import io

    handler.stream = buffer = io.StringIO()
    try:
        r = client.post("/api/v1/auth/signup", json=signup_body(), headers={"X-Request-ID": "req-abcdef12"})
        client.post("/api/v1/auth/login", json={"email": "riley.newcomer@example.org", "password": "wrong password"})
    finally:
        handler.stream = stream
    assert r.status_code == 201
    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    access = [line for line in lines if line["name"] == "telehealth.access"]
    assert access and access[0]["request_id"] == "req-abcdef12" and access[0]["route"] == "/api/v1/auth/signup"
    assert access[0]["status"] == 201 and access[0]["user_id"]
    text_out = buffer.getvalue().lower()
    for secret in ("riley", "newcomer", "1990-03-04", "park ave", "5550123", "a long enough passphrase"):
        assert secret not in text_out


# --------------------------------------------------------------------------- CLI


def test_seed_demo_is_idempotent_and_prints_logins(runner, db):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    count = db.session.scalar(select(User.id).order_by(User.id.desc()))
    users = db.session.scalars(select(User)).all()
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert db.session.scalars(select(User)).all() == users and count
    roles = [u.role.value for u in users]
    assert roles.count("physician") >= 3 and roles.count("coach") >= 2
    assert {"ops", "admin", "patient"} <= set(roles)
    state_sets = {frozenset(lic.state for lic in u.physician_profile.licenses) for u in users if u.physician_profile}
    assert len(state_sets) == 3  # licensed in different sets of states
    for u in users:
        assert u.email in first.output
    assert "demo-password-2026" in first.output


def test_demo_logins_work(runner, client, db):
    runner.invoke(args=["seed-demo"])
    for email in ("admin@demo.telehealth", "patient@demo.telehealth", "dr.chen@demo.telehealth"):
        r = client.post("/api/v1/auth/login", json={"email": email, "password": "demo-password-2026"})
        assert r.status_code == 200, (email, r.get_json())


def test_mail_outbox_command_prints_mail(runner, client, create_user, db):
    user = create_user("patient")
    client.post("/api/v1/auth/password-reset", json={"email": user.email})
    result = runner.invoke(args=["mail-outbox"])
    assert result.exit_code == 0 and user.email in result.output and "token=" in result.output


def test_seed_demo_refuses_production():
    app = _production()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "production" in result.output


# --------------------------------------------------------------------------- rate limits in Redis


def _redis_answers() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
        return True
    return False


@pytest.mark.skipif(not _redis_answers() and not os.environ.get("CI"), reason="no Redis server answers")
def test_login_rate_limit_counts_in_redis(tmp_path):
    """Several web workers must share one count: with RATELIMIT_STORAGE_URI the counts live in Redis.
    Runs in a child process because the limiter's storage is process-wide. CI runs its PostgreSQL and
    SQLite passes side by side: each uses a Redis database of its own."""
    index = 14 if os.environ.get("TEST_DATABASE_URL", "").startswith("sqlite") else 15
    script = textwrap.dedent(f"""
        import redis
        from flask_migrate import upgrade
        from tests.conftest import make_test_app
        r = redis.Redis.from_url("redis://127.0.0.1:6379/{index}"); r.flushdb()
        app = make_test_app("sqlite:///{tmp_path}/rl.db", RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/{index}",
                            LOGIN_RATE_LIMIT="3 per minute")
        with app.app_context():
            upgrade()
        client = app.test_client()
        codes = [client.post("/api/v1/auth/login", json={{"email": "a@example.org", "password": "x" * 12}}).status_code
                 for _ in range(4)]
        print(codes, len(r.keys("*")) > 0)
        r.flushdb()
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[401, 401, 401, 429] True"


def test_audit_rows_hold_no_values(client, auth, db):
    auth.as_role("patient")
    client.patch("/api/v1/me", json={"phone": "+1 718 555 0150", "legal_last_name": "Secretname"})
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "update"))
    assert event.fields == "legal_last_name,phone"
    row = db.session.execute(text("SELECT * FROM audit_events WHERE id = :id"), {"id": event.id}).one()
    assert "Secretname" not in str(row) and "5550150" not in str(row)


def test_audit_rows_written_in_one_insert_get_their_time(app, db):
    from telehealth.services.platform import audit

    moment = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
    with time_machine.travel(moment, tick=False):
        audit.record_many(None, "read", "physician_worklist", 7, [(1, ["phase"]), (2, ())])
        db.session.commit()
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.resource_type == "physician_worklist")
                              .order_by(AuditEvent.id)).all()
    assert [(r.patient_id, r.resource_id, r.fields, r.occurred_at) for r in rows] == [
        (1, "7", "phase", moment), (2, "7", None, moment)]   # the model's default, on a Core insert too


def test_the_demo_patient_is_screened_approved_and_may_buy(runner, db):
    from telehealth.models import Product
    from telehealth.services.accounts import accounts
    from telehealth.services.billing import purchases

    runner.invoke(args=["seed-demo"])
    patient = accounts.find_by_email("patient@demo.telehealth")
    assert purchases.purchase_blocker(patient) is None
    assert db.session.scalar(select(Product).where(Product.code == "starter")).price_cents == 19900
