"""The credits ledger: what a patient has paid for and not yet used.

Every change is an append-only `CreditEntry` with a unique key (so an effect replayed happens once;
the same key asked for a different effect is a bug, `LedgerKeyReused`, never silently skipped) and, in the same transaction, a guarded update of `CreditBalance` (so a balance never goes below
zero, even when two requests debit the last credit at the same moment: one of them finds no row to
update and is refused). Booking and shipping debit through `debit`.
"""
from __future__ import annotations

from sqlalchemy import select, update

from telehealth.errors import Conflict
from telehealth.extensions import db
from telehealth.models.billing.billing import CreditBalance, CreditEntry, CreditKind, EntryType


class InsufficientCredits(Conflict):
    code = "insufficient_credits"


class LedgerKeyReused(RuntimeError):
    """A key already applied with another effect (another amount, kind, patient, type or order): two
    different effects were given one key, and skipping the second would lose it without a trace."""


def has_entry(key: str) -> bool:
    return db.session.scalar(select(CreditEntry.id).where(CreditEntry.key == key)) is not None


def _add_to_balance(patient_id: int, kind: CreditKind, delta: int) -> bool:
    """Apply `delta`; False when it would take the balance below zero (nothing changes then)."""
    if delta >= 0:
        changed = db.session.execute(update(CreditBalance).where(
            CreditBalance.patient_id == patient_id, CreditBalance.kind == kind)
            .values(balance=CreditBalance.balance + delta)).rowcount
        if not changed:
            db.session.add(CreditBalance(patient_id=patient_id, kind=kind, balance=delta))
            db.session.flush()
        return True
    return db.session.execute(update(CreditBalance).where(
        CreditBalance.patient_id == patient_id, CreditBalance.kind == kind, CreditBalance.balance >= -delta)
        .values(balance=CreditBalance.balance + delta)).rowcount == 1


def _entry(patient_id: int, kind: CreditKind, delta: int, entry_type: EntryType, key: str, *,
           order_id: int | None = None, note: str = "") -> CreditEntry | None:
    existing = db.session.scalar(select(CreditEntry).where(CreditEntry.key == key))
    if existing is not None:
        if (existing.patient_id, existing.kind, existing.delta, existing.entry_type, existing.order_id) != (
                patient_id, kind, delta, entry_type, order_id):
            raise LedgerKeyReused(f"ledger key {key!r} was applied already with another effect")
        return None  # the same effect replayed
    if not _add_to_balance(patient_id, kind, delta):
        raise InsufficientCredits(f"No {kind.value.replace('_', ' ')} credit is left; buy a package that includes one.")
    entry = CreditEntry(patient_id=patient_id, kind=kind, delta=delta, entry_type=entry_type, key=key,
                        order_id=order_id, note=note)
    db.session.add(entry)
    db.session.flush()
    return entry


def grant(patient_id: int, kind: CreditKind, count: int, *, key: str, order_id: int | None = None,
          note: str = "") -> CreditEntry | None:
    """Add credits once per `key` (None when this key was already applied)."""
    return _entry(patient_id, kind, count, EntryType.GRANT, key, order_id=order_id, note=note)


def debit(patient_id: int, kind: CreditKind, *, key: str, note: str = "") -> CreditEntry | None:
    """Use one credit, once per `key`; InsufficientCredits (409) when none is left."""
    return _entry(patient_id, kind, -1, EntryType.DEBIT, key, note=note)


def restore(patient_id: int, kind: CreditKind, *, key: str, note: str = "") -> CreditEntry | None:
    """Give back a debited credit (e.g. a booking cancelled in time)."""
    return _entry(patient_id, kind, 1, EntryType.RESTORE, key, note=note)


def take_back(patient_id: int, kind: CreditKind, count: int, *, key: str, order_id: int, note: str) -> CreditEntry | None:
    """Remove unused credits whose money is being refunded."""
    return _entry(patient_id, kind, -count, EntryType.REFUND, key, order_id=order_id, note=note)


def give_back(patient_id: int, kind: CreditKind, count: int, *, key: str, order_id: int,
              note: str) -> CreditEntry | None:
    """Return credits a refund took back, when that refund failed (the order stands behind them again)."""
    return _entry(patient_id, kind, count, EntryType.REFUND, key, order_id=order_id, note=note)


def hold(patient_id: int, counts: dict[CreditKind, int]) -> None:
    """Check the patient has `counts` credits of each kind and keep those balances from changing
    until this transaction ends (PostgreSQL: FOR UPDATE; SQLite runs one writer at a time), so a
    `take_back` of them later in the transaction, after a slow call, cannot fail."""
    if not counts:
        return
    found = dict(db.session.execute(select(CreditBalance.kind, CreditBalance.balance).where(
        CreditBalance.patient_id == patient_id, CreditBalance.kind.in_(list(counts))).with_for_update()).all())
    for kind, count in counts.items():
        if found.get(kind, 0) < count:
            raise InsufficientCredits(f"Not enough {kind.value.replace('_', ' ')} credits are left for this.")


def balances(patient_id: int) -> dict[CreditKind, int]:
    rows = db.session.execute(select(CreditBalance.kind, CreditBalance.balance)
                              .where(CreditBalance.patient_id == patient_id)).all()
    found = dict(rows)
    return {kind: found.get(kind, 0) for kind in CreditKind}


def entries(patient_id: int, limit: int | None = 200) -> list[CreditEntry]:
    """Newest first; `limit=None`: every entry (the patient's full record)."""
    return list(db.session.scalars(select(CreditEntry).where(CreditEntry.patient_id == patient_id)
                                   .order_by(CreditEntry.id.desc()).limit(limit)))
