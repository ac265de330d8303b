"""Releases of information: the patient grants, lists and revokes (one step) their consent to share
their progress with their own mental-health provider.

A release has one scope: `progress_report` (services/records/progress_report.py) or `fhir_record` (the FHIR
export of services/records/fhir_export.py when a physician makes it). To share both, the patient grants two
releases; each keeps the words naming what it shares and is revoked on its own.

Only the patient acts on their releases. The recipient defaults to the mental-health provider on
the patient's profile; the exact words agreed to are built here, stored with the release and
shown back. Every grant, read and revocation is audited (field names, never values).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import select

from telehealth.clock import now
from telehealth.errors import Conflict, NotFound, ValidationFailed
from telehealth.extensions import db
from telehealth.models.accounts.accounts import Role, User
from telehealth.models.records.releases import RecordRelease, ReleaseScope, ReleaseStatus
from telehealth.services.platform import audit
from telehealth.services.platform.authz import require_role
from telehealth.services.platform.documents import clinic_name, local_date

WORDING_VERSION = "2026-11"
DEFAULT_VALID_DAYS = 365
MAX_VALID_DAYS = 365
_SCOPE_WORDS = {
    ReleaseScope.PROGRESS_REPORT: (
        "a progress report: my name and date of birth, when my treatment started, the dates of my "
        "at-home sessions, my PHQ-9 and GAD-7 scores, a summary of my current prescription, any adverse "
        "events (grade and date), and my physician's name and NPI"),
    ReleaseScope.FHIR_RECORD: (
        "an electronic copy of my health record (FHIR format): my name, date of birth, phone, email, address "
        "and emergency contact, my PHQ-9 and GAD-7 answers and scores, my appointments, every version of my "
        "prescriptions (medication, dose, directions, refills and diagnosis code), my blood-pressure readings, "
        "and the names of the physicians and coaches I saw (physicians with their NPI)"),
}
# What a refusal names: "the patient has not authorized sharing <this> ..."
_SCOPE_NOUNS = {ReleaseScope.PROGRESS_REPORT: "a progress report", ReleaseScope.FHIR_RECORD: "their FHIR record"}


class NoActiveRelease(Conflict):
    code = "no_active_release"


def wording(release: RecordRelease, zone: str, clinic: str) -> str:
    """The exact words the patient agrees to (kept with the release)."""
    what = _SCOPE_WORDS[ReleaseScope(release.scope)]
    return (f"I authorize {clinic} to share {what} with {release.recipient_label}, for the purpose of "
            f"coordinating my care. This authorization expires on {local_date(release.expires_at, zone)} unless I "
            f"revoke it sooner. I can revoke it at any time in the app, in one step; a revocation does not undo what "
            f"was shared before it. My treatment does not depend on whether I sign this authorization.")


def _recipient(patient: User, name: str | None, organization: str | None, contact: dict | None
               ) -> tuple[str, str, dict | None]:
    """The recipient as given, or else the mental-health provider of the patient's profile."""
    if name:
        return name.strip(), (organization or "").strip(), contact or None
    provider = patient.patient_profile.mental_health_provider if patient.patient_profile else None
    if not provider or not provider.get("name"):
        raise ValidationFailed("Some fields are missing or invalid.", fields={"recipient_name": [
            "Name the provider to share with (your profile names no mental-health provider)."]})
    saved = {k: provider.get(k) for k in ("phone", "email") if provider.get(k)}
    return (provider["name"], (organization or provider.get("practice") or "").strip(),
            contact or saved or None)


def draft(patient: User, *, recipient_name: str | None = None, recipient_organization: str | None = None,
          recipient_contact: dict | None = None, scope: str = ReleaseScope.PROGRESS_REPORT.value,
          valid_days: int = DEFAULT_VALID_DAYS) -> RecordRelease:
    """The release as `grant` would record it now, with its exact words, saving nothing: what the
    patient reads before agreeing (the portal's review step). Refuses what `grant` refuses."""
    require_role(patient, (Role.PATIENT,))
    if patient.patient_profile is None:
        raise Conflict("Only patients can share their record.")
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise ValidationFailed("Some fields are missing or invalid.", fields={
            "valid_days": [f"Choose 1 to {MAX_VALID_DAYS} days."]})
    name, organization, contact = _recipient(patient, recipient_name, recipient_organization, recipient_contact)
    at = now()
    expires_at = at + timedelta(days=valid_days)
    kind = ReleaseScope(scope)
    release = RecordRelease(
        patient_id=patient.id, recipient_name=name, recipient_organization=organization,
        recipient_contact=contact, scope=kind.value, wording_version=WORDING_VERSION, granted_at=at,
        expires_at=expires_at)
    release.wording = wording(release, patient.time_zone, clinic_name())
    return release


def grant(patient: User, *, recipient_name: str | None = None, recipient_organization: str | None = None,
          recipient_contact: dict | None = None, scope: str = ReleaseScope.PROGRESS_REPORT.value,
          valid_days: int = DEFAULT_VALID_DAYS) -> RecordRelease:
    """Record the patient's release (the words agreed to, when, until when)."""
    release = draft(patient, recipient_name=recipient_name, recipient_organization=recipient_organization,
                    recipient_contact=recipient_contact, scope=scope, valid_days=valid_days)
    db.session.add(release)
    db.session.flush()
    audit.record(patient, "create", "record_release", release.id, patient_id=patient.id)
    db.session.commit()
    return release


def list_releases(patient: User) -> list[RecordRelease]:
    """The patient's releases, newest first (audited)."""
    require_role(patient, (Role.PATIENT,))
    rows = list(db.session.scalars(select(RecordRelease).where(RecordRelease.patient_id == patient.id)
                                   .order_by(RecordRelease.granted_at.desc(), RecordRelease.id.desc())))
    audit.record(patient, "read", "record_releases", patient.id, patient_id=patient.id)
    db.session.commit()
    return rows


def revoke(patient: User, release_id: int) -> RecordRelease:
    """One step, no questions: the release stops allowing anything at once."""
    require_role(patient, (Role.PATIENT,))
    release = db.session.get(RecordRelease, release_id, with_for_update=True)
    if release is None or release.patient_id != patient.id:
        raise NotFound("No such release.")
    release.revoke(now())
    audit.record(patient, "update", "record_release", release.id, patient_id=patient.id, fields=["revoked_at"])
    db.session.commit()
    return release


@contextmanager
def refusal_audited(actor: User, resource_type: str, resource_id: object, patient_id: int) -> Iterator[None]:
    """Around `usable_release`: a refusal (no usable release, or no such release) is kept in the
    audit trail like any other outcome (what the request did before is rolled back), then re-raised."""
    try:
        yield
    except (NoActiveRelease, NotFound):
        db.session.rollback()
        audit.record(actor, "refused", resource_type, resource_id, patient_id=patient_id)
        db.session.commit()
        raise


def usable_release(patient_id: int, scope: ReleaseScope, release_id: int | None = None) -> RecordRelease:
    """The release that allows sharing `scope` now: the one named, or the newest active one.
    NoActiveRelease (409) says why there is none: never granted, expired or revoked."""
    at = now()
    query = select(RecordRelease).where(RecordRelease.patient_id == patient_id, RecordRelease.scope == scope.value)
    if release_id is not None:
        query = query.where(RecordRelease.id == release_id)
    rows = list(db.session.scalars(query.order_by(RecordRelease.granted_at.desc(), RecordRelease.id.desc())))
    for row in rows:
        if row.allows(scope.value, at):
            return row
    if release_id is not None and not rows:
        raise NotFound("No such release.")
    what = _SCOPE_NOUNS[scope]
    if not rows:
        raise NoActiveRelease(f"The patient has not authorized sharing {what} with anyone: they can "
                              "grant a release in the app.")
    latest = rows[0].status(at)
    if latest is ReleaseStatus.REVOKED:
        raise NoActiveRelease(f"The patient revoked their authorization to share {what}; nothing "
                              "may be shared until they grant a new release.")
    raise NoActiveRelease(f"The patient's authorization to share {what} has expired; nothing may be "
                          "shared until they grant a new release.")
