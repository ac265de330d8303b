"""Administration: staff accounts, physician licenses, care-team assignments, the on-call rota, the
audit trail."""
from flask import Blueprint
from flask_login import current_user

from telehealth.api import endpoint
from telehealth.models.accounts.accounts import Role
from telehealth.schemas.accounts.accounts import (
    AuditListOut, AuditQuery, CareAssignmentIn, CareAssignmentOut, LicenseIn, LicenseOut, StaffCreateIn,
    StaffListOut, StaffListQuery, StaffUpdateIn, UserOut, audit_event_out, care_assignment_out, user_out,
)
from telehealth.schemas.platform.on_call import ShiftIn, ShiftListOut, ShiftOut, ShiftQuery, shift_out
from telehealth.services.accounts import care_team, staff
from telehealth.services.platform import audit, on_call

bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")
ADMIN = (Role.ADMIN,)
STAFF_MANAGERS = (Role.ADMIN, Role.OPS)  # ops assign coaches and physicians to patients


@bp.post("/staff")
@endpoint("Create a staff account (an invitation email sets the password)", tags=["admin"], auth=ADMIN,
          body=StaffCreateIn, response=UserOut, status=201, errors=(409,))
def create_staff(body: StaffCreateIn):
    return user_out(staff.create_staff(current_user, body))


@bp.get("/staff")
@endpoint("List staff accounts", tags=["admin"], auth=ADMIN, query=StaffListQuery, response=StaffListOut)
def list_staff(query: StaffListQuery):
    return StaffListOut(items=[user_out(u) for u in staff.list_staff(query.role)])


@bp.get("/staff/<int:staff_id>")
@endpoint("One staff account", tags=["admin"], auth=ADMIN, response=UserOut)
def get_staff(staff_id: int):
    return user_out(staff.get_staff(staff_id))


@bp.patch("/staff/<int:staff_id>")
@endpoint("Change a staff account; `active: false` deactivates it and ends its sessions", tags=["admin"],
          auth=ADMIN, body=StaffUpdateIn, response=UserOut)
def update_staff(staff_id: int, body: StaffUpdateIn):
    return user_out(staff.update_staff(current_user, staff_id, body.model_dump(exclude_unset=True)))


@bp.put("/physicians/<int:physician_id>/licenses/<us_state:state>")
@endpoint("Add or renew a physician's license in a state", tags=["admin"], auth=ADMIN, body=LicenseIn,
          response=LicenseOut)
def put_license(physician_id: int, state: str, body: LicenseIn):
    lic = staff.put_license(current_user, physician_id, state, body)
    return LicenseOut(state=lic.state, license_number=lic.license_number, expires_on=lic.expires_on)


@bp.delete("/physicians/<int:physician_id>/licenses/<us_state:state>")
@endpoint("Remove a physician's license in a state", tags=["admin"], auth=ADMIN, status=204)
def delete_license(physician_id: int, state: str):
    staff.delete_license(current_user, physician_id, state)


@bp.post("/care-assignments")
@endpoint("Put a physician or coach on a patient's care team", tags=["admin"], auth=STAFF_MANAGERS,
          body=CareAssignmentIn, response=CareAssignmentOut, status=201, errors=(409,))
def assign(body: CareAssignmentIn):
    return care_assignment_out(care_team.assign(current_user, body.patient_id, body.staff_id))


@bp.delete("/care-assignments/<int:assignment_id>")
@endpoint("Take a physician or coach off a patient's care team", tags=["admin"], auth=STAFF_MANAGERS,
          response=CareAssignmentOut)
def end_assignment(assignment_id: int):
    return care_assignment_out(care_team.end_assignment(current_user, assignment_id))


@bp.get("/on-call/shifts")
@endpoint("The on-call rota: shifts overlapping [since, until)", tags=["admin"], auth=ADMIN, query=ShiftQuery,
          response=ShiftListOut)
def list_shifts(query: ShiftQuery):
    return ShiftListOut(items=[shift_out(s) for s in on_call.list_shifts(query.since, query.until)])


@bp.post("/on-call/shifts")
@endpoint("Put a physician on call over [starts_at, ends_at); shifts never overlap", tags=["admin"], auth=ADMIN,
          body=ShiftIn, response=ShiftOut, status=201, errors=(409,))
def create_shift(body: ShiftIn):
    return shift_out(on_call.create_shift(current_user, body.physician_id, body.starts_at, body.ends_at, body.phone))


@bp.delete("/on-call/shifts/<int:shift_id>")
@endpoint("End a shift under way now, or remove one not started yet", tags=["admin"], auth=ADMIN, status=204,
          errors=(409,))
def end_shift(shift_id: int):
    on_call.end_shift(current_user, shift_id)


@bp.get("/audit")
@endpoint("The audit trail, newest first", tags=["admin"], auth=ADMIN, query=AuditQuery, response=AuditListOut)
def audit_trail(query: AuditQuery):
    events = audit.trail(patient_id=query.patient_id, actor_id=query.actor_id, before_id=query.before_id,
                         limit=query.limit)
    return AuditListOut(items=[audit_event_out(e) for e in events],
                        next_before_id=events[-1].id if len(events) == query.limit else None)
