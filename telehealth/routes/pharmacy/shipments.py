"""Shipments: the patient's own, ops moving one by hand, and the pharmacy's signed webhook."""
from flask import Blueprint, Response, request
from flask_login import current_user

from telehealth.api import PUBLIC, Empty, MessageOut, endpoint
from telehealth.models.accounts.accounts import Role
from telehealth.schemas.pharmacy.shipments import (
    AddressIn, BoardOut, BoardQuery, ShipmentListOut, ShipmentMoveIn, ShipmentOut, StageIn, board_item_out,
    shipment_out,
)
from telehealth.services.pharmacy import pharmacy_events, shipment_board, shipments

bp = Blueprint("shipments", __name__, url_prefix="/api/v1")
webhooks = Blueprint("pharmacy_webhooks", __name__, url_prefix="/webhooks")


@bp.get("/me/shipments")
@endpoint("My medication shipments and their tracking", tags=["shipments"], auth=(Role.PATIENT,),
          response=ShipmentListOut)
def my_shipments():
    return ShipmentListOut(items=[shipment_out(s) for s in shipments.for_patient(current_user)])


@bp.post("/prescriptions/<int:prescription_id>/shipments")
@endpoint("Send the prescription's next stage (1 to 3 sessions) to the pharmacy", tags=["shipments"],
          auth=(Role.PHYSICIAN,), body=StageIn, response=ShipmentOut, status=201, errors=(409, 503))
def create_stage(prescription_id: int, body: StageIn):
    return shipment_out(shipments.create_next_stage(current_user, prescription_id, body.sessions))


@bp.post("/shipments/<int:shipment_id>/release-next-stage")
@endpoint("Record the physician's review of this stage's sessions, releasing the next stage", tags=["shipments"],
          auth=(Role.PHYSICIAN,), body=Empty, response=ShipmentOut, errors=(409,))
def release(shipment_id: int, body: Empty):
    return shipment_out(shipments.release_next_stage(current_user, shipment_id))


@bp.post("/ops/shipments/<int:shipment_id>/status")
@endpoint("Move a shipment by hand (ops; only allowed transitions, audited)", tags=["shipments"], auth=(Role.OPS,),
          body=ShipmentMoveIn, response=ShipmentOut, errors=(409,))
def move(shipment_id: int, body: ShipmentMoveIn):
    details = body.model_dump(exclude={"status"}, exclude_none=True)
    return shipment_out(shipments.move(current_user, shipment_id, body.status, details))


@bp.get("/ops/shipments")
@endpoint("The shipment board: by status, search by tracking number or order, SLA breaches; JSON or CSV",
          tags=["shipments"], auth=(Role.OPS, Role.ADMIN), query=BoardQuery, response=BoardOut,
          alternatives=("text/csv",))
def board(query: BoardQuery):
    rows = shipment_board.board(current_user, status=query.status, search=query.q, breach=query.breach,
                           before_id=query.before_id, limit=query.limit)
    if query.format == "csv":
        return Response(shipment_board.export_csv(rows), mimetype="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="shipments.csv"'})
    return BoardOut(items=[board_item_out(s, p, shipment_board.breaches(s)) for s, p in rows],
                    next_before_id=rows[-1][0].id if len(rows) == query.limit else None)


@bp.put("/shipments/<int:shipment_id>/address")
@endpoint("Change where a shipment goes: the patient until it is filled, ops until it ships (audited)",
          tags=["shipments"], auth=(Role.PATIENT, Role.OPS), body=AddressIn, response=ShipmentOut,
          errors=(409, 502, 503))
def change_address(shipment_id: int, body: AddressIn):
    return shipment_out(shipments.change_address(current_user, shipment_id, body.address.model_dump()))


@webhooks.post("/pharmacy")
@endpoint("The partner pharmacy's webhook (HMAC-SHA256 over timestamp and body; 5-minute window)",
          tags=["webhooks"], auth=PUBLIC, response=MessageOut, errors=(400, 401, 404))
def pharmacy_webhook():
    event = pharmacy_events.verify(request.get_data(), request.headers.get("X-Pharmacy-Timestamp"),
                                   request.headers.get("X-Pharmacy-Signature"))
    return MessageOut(message=pharmacy_events.handle(event))
