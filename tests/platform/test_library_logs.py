"""LOG_LEVEL=DEBUG turns on our own debug lines, never the libraries' (Stripe logs its request
bodies, SQLAlchemy its result rows, Twilio its requests): those stay at WARNING."""
from __future__ import annotations

import logging

import pytest

from telehealth.adapters import payments
from tests.conftest import make_test_app


@pytest.fixture
def debug_app(database_url, localstripe_url):
    root = logging.getLogger()
    before = root.level
    yield make_test_app(database_url, LOG_LEVEL="DEBUG", STRIPE_API_BASE=localstripe_url)
    root.setLevel(before)


def test_a_stripe_call_logs_no_email_at_debug(debug_app, caplog):
    assert logging.getLogger("telehealth").isEnabledFor(logging.DEBUG)  # debug really is on
    email = "debug.leak.check@example.org"
    with debug_app.app_context():
        customer = payments.create_customer(email, 424242)
    assert customer.startswith("cus_")
    logging.getLogger("telehealth.check").debug("marker")
    assert any(r.getMessage() == "marker" for r in caplog.records)  # debug lines are captured
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args}" for r in caplog.records)
    assert email not in logged and "424242" not in logged


def test_library_loggers_stay_at_warning_whatever_the_level(debug_app):
    from telehealth.logs import QUIET_LIBRARIES

    assert {"stripe", "twilio", "urllib3", "sqlalchemy", "apscheduler"} <= set(QUIET_LIBRARIES)
    for name in [*QUIET_LIBRARIES, "twilio.http_client", "sqlalchemy.engine.Engine", "urllib3.connectionpool"]:
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
        assert logging.getLogger(name).isEnabledFor(logging.WARNING), name
