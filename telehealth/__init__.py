"""telehealth: the backend of an at-home ketamine therapy program.

`create_app(config=None)` builds the Flask app: `config` may be a settings class, a dict of
overrides on top of the class chosen by TELEHEALTH_ENV, or None.
"""
from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import Config, config_for


def create_app(config: type[Config] | dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    if isinstance(config, type):
        settings_cls = config
        overrides: dict[str, Any] = {}
    else:
        overrides = dict(config or {})
        settings_cls = config_for(overrides.pop("ENV_NAME", None))
    app.config.from_object(settings_cls)
    app.config.update(overrides)
    settings_cls.validate(app.config)
    from telehealth.policy import validate_policy_overrides

    validate_policy_overrides(app.config.get("CLINICAL_POLICY") or {})
    _validate_sms_program_name(app.config["SMS_PROGRAM_NAME"])

    from telehealth import crypto
    from telehealth.logs import configure_logging, init_request_logging

    configure_logging(app.config["LOG_LEVEL"])
    crypto.init_app(app)
    _prepare_database_url(app)

    from telehealth import models  # noqa: F401  (registers every table)
    from telehealth.cli import register_cli
    from telehealth.converters import DbIdConverter, UsStateConverter
    from telehealth.errors import register_error_handlers
    from telehealth.extensions import csrf, db, limiter, login_manager, migrate
    from telehealth.routes import register_routes
    from telehealth.security_headers import init_security_headers
    from telehealth import sessions  # noqa: F401  (registers the Flask-Login user loader)

    app.url_map.converters["us_state"] = UsStateConverter
    app.url_map.converters["int"] = DbIdConverter
    if app.config["TRUSTED_PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXY_HOPS"]  # rate limits must see the client, not the load balancer
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True,
                     compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    init_request_logging(app)
    init_security_headers(app)
    from telehealth.pages import init_pages

    init_pages(app)
    register_error_handlers(app)
    register_routes(app)
    for blueprint in app.blueprints.values():
        # The JSON API authenticates by a SameSite cookie and accepts only JSON bodies, which a
        # cross-site form cannot send; the server-rendered portal's forms carry CSRF tokens.
        if (blueprint.url_prefix or "").startswith(("/api/", "/webhooks")):
            csrf.exempt(blueprint)
    register_cli(app)
    return app


def _prepare_database_url(app: Flask) -> None:
    url: str = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///") and ":memory:" not in url:
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    if url.startswith("sqlite") and ":memory:" in url:
        from sqlalchemy.pool import StaticPool

        options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    options["hide_parameters"] = True  # bound values are PHI: never in exception text or logs
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    app.config["SQLALCHEMY_DATABASE_URI"] = url


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite: foreign keys on, WAL for a reader beside a writer, and SQLAlchemy in charge of
    transactions (pysqlite's own handling breaks SAVEPOINTs)."""
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    # IMMEDIATE: a transaction takes SQLite's write lock when it starts, so two transactions that
    # read then write (a credit debit, a booking) run one after the other, waiting up to
    # busy_timeout, instead of failing with "database is locked" when the second tries to write.
    if conn.dialect.name == "sqlite" and conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _validate_sms_program_name(name: str) -> None:
    """Every text starts with this name, so it must say nothing clinical (no drug, no diagnosis)."""
    from config import ConfigError
    from telehealth.services.messaging.message_content import ClinicalContentError, check_sms_body

    try:
        check_sms_body(f"{name}: reply STOP to opt out.")
    except ClinicalContentError as exc:
        raise ConfigError(f"SMS_PROGRAM_NAME must say nothing clinical in a text ({exc})") from None
