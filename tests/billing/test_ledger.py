"""The credits ledger under concurrency: the balance never goes below zero and equals its entries."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from telehealth.extensions import db as _db
from telehealth.models import CreditBalance, CreditEntry, CreditKind
from telehealth.services.billing import ledger
from telehealth.services.billing.ledger import InsufficientCredits
from tests.conftest import _make_user


def test_concurrent_debits_never_overdraw(app, committed):
    patient_id = _make_user(committed, "patient").id  # a plain id: threads must not share the ORM object
    ledger.grant(patient_id, CreditKind.CONSULT, 5, key="test:grant")
    committed.session.commit()
    results: list[str] = []
    start = threading.Barrier(20)

    def book(i: int) -> None:
        with app.app_context():
            start.wait()
            try:
                ledger.debit(patient_id, CreditKind.CONSULT, key=f"test:debit:{i}")
                _db.session.commit()
                results.append("ok")
            except InsufficientCredits:
                _db.session.rollback()
                results.append("refused")
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=book, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 5 and results.count("refused") == 15
    committed.session.expire_all()
    balance = committed.session.get(CreditBalance, (patient_id, CreditKind.CONSULT)).balance
    total = committed.session.scalar(select(func.sum(CreditEntry.delta)).where(CreditEntry.patient_id == patient_id))
    assert balance == total == 0


def test_the_same_key_applies_once(app, db, create_user):
    patient = create_user("patient")
    assert ledger.grant(patient.id, CreditKind.FOLLOW_UP, 3, key="order:1:follow_up") is not None
    assert ledger.grant(patient.id, CreditKind.FOLLOW_UP, 3, key="order:1:follow_up") is None
    assert ledger.debit(patient.id, CreditKind.FOLLOW_UP, key="booking:9") is not None
    assert ledger.debit(patient.id, CreditKind.FOLLOW_UP, key="booking:9") is None
    assert ledger.balances(patient.id)[CreditKind.FOLLOW_UP] == 2
    assert ledger.restore(patient.id, CreditKind.FOLLOW_UP, key="cancel:9") is not None
    assert ledger.balances(patient.id)[CreditKind.FOLLOW_UP] == 3


def test_a_debit_without_credit_is_refused_and_writes_nothing(db, create_user):
    import pytest

    patient = create_user("patient")
    with pytest.raises(InsufficientCredits):
        ledger.debit(patient.id, CreditKind.COACHING_60, key="booking:1")
    assert db.session.scalar(select(func.count()).select_from(CreditEntry)) == 0


def test_a_key_applied_again_with_another_effect_is_an_error_not_a_silent_no_op(db, create_user):
    import pytest

    patient = create_user("patient")
    assert ledger.grant(patient.id, CreditKind.FOLLOW_UP, 3, key="order:7:follow_up") is not None
    assert ledger.grant(patient.id, CreditKind.FOLLOW_UP, 3, key="order:7:follow_up") is None  # a replay
    for other in (lambda: ledger.grant(patient.id, CreditKind.FOLLOW_UP, 2, key="order:7:follow_up"),
                  lambda: ledger.grant(patient.id, CreditKind.CONSULT, 3, key="order:7:follow_up"),
                  lambda: ledger.take_back(patient.id, CreditKind.FOLLOW_UP, 3, key="order:7:follow_up",
                                           order_id=None, note="")):
        with pytest.raises(ledger.LedgerKeyReused):
            other()
    assert ledger.balances(patient.id)[CreditKind.FOLLOW_UP] == 3
    assert ledger.balances(patient.id)[CreditKind.CONSULT] == 0
