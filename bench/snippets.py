"""Every piece of the bench that imports the app (telehealth.*), as Python source run in a
subprocess with the bench environment (`runner.python_snippet`, or `python -c` in outbox.py).

The rest of bench/ talks to the app over HTTP, through `flask` commands or with SQL, so when the
app's modules move, this file is the one to update (crisis_detection.py imports
`detect_crisis` directly; it measures the function in-process). A snippet that returns something
prints one line `<tag> <JSON>`; arguments come in sys.argv.
"""

# The demo patient starts without credits; booking debits one per appointment (scenarios.py).
# argv: the patient's email, the credit kind, how many. Prints the settings the booking needs.
GRANT_CREDITS = """
import json, sys
from telehealth import create_app
from telehealth.extensions import db
from telehealth.models import CreditKind
from telehealth.services.accounts import accounts
from telehealth.services.billing import ledger

email, kind, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
app = create_app()
with app.app_context():
    patient = accounts.find_by_email(email)
    ledger.grant(patient.id, CreditKind(kind), count, key=f"bench:{kind}")
    db.session.commit()
    print("bench-settings " + json.dumps({
        "patient_id": patient.id,
        "buffer_minutes": app.config["APPOINTMENT_BUFFER_MINUTES"],
        "min_notice_hours": app.config["BOOKING_MIN_NOTICE_HOURS"],
        "horizon_days": app.config["BOOKING_HORIZON_DAYS"],
    }))
"""

# The ops board (ops_board.py): the encrypted columns (prescriptions.directions,
# shipments.shipping_address) hold ciphertext made with the app's keys: made once here, then
# copied into every row by ops_board.PRESCRIPTIONS_SQL and SHIPMENTS_SQL.
CIPHERTEXTS = """
import json
from telehealth import create_app, crypto

app = create_app()
with app.app_context():
    address = {"line1": "1 Bench Street", "line2": "", "city": "Portland", "state": "OR", "postal_code": "97201"}
    print("bench-ciphertexts " + json.dumps({
        "directions": crypto.encrypt("Dissolve one tablet under the tongue at the start of a session."),
        "address": crypto.encrypt(json.dumps(address, sort_keys=True)),
    }))
"""

# The care team (care.py): ciphertexts for the encrypted columns the care data needs, made once
# with the app's keys.
CARE_CIPHERTEXTS = """
import json
from telehealth import create_app, crypto

app = create_app()
with app.app_context():
    gates = [{"id": g, "ok": True, "reason": "ok"} for g in ("prescription", "medication_delivered", "interval",
             "within_prescription", "consult", "consult_after_gap", "adverse_event", "pause", "sitter",
             "blood_pressure")]
    answers = {"mood": 7, "side_effects": [], "graded": []}
    address = {"line1": "1 Bench Street", "line2": "", "city": "Albany", "state": "NY", "postal_code": "12207"}
    print("bench-ciphertexts " + json.dumps({
        "empty": crypto.encrypt("{}"),
        "directions": crypto.encrypt("Dissolve one tablet under the tongue at the start of a session."),
        "address": crypto.encrypt(json.dumps(address, sort_keys=True)),
        "sitter_name": crypto.encrypt("Sam Sitter"),
        "sitter_phone": crypto.encrypt("+12125550123"),
        "gates": crypto.encrypt(json.dumps(gates, sort_keys=True)),
        "answers": crypto.encrypt(json.dumps(answers, sort_keys=True)),
        "body": crypto.encrypt("Telehealth Care: a reminder of your appointment."),
        "note": crypto.encrypt("Bench text."),
    }))
"""

# The care team: counted in-process (the app on the bench database, a test client, an engine
# listener), the SQL statements of one request of each care scenario, after one request to warm
# up. argv: the paths as JSON ({name: path}), the physician's email and password.
CARE_QUERY_COUNT = """
import json, sys
from sqlalchemy import event
from telehealth import create_app
from telehealth.extensions import db

paths = json.loads(sys.argv[1])
app = create_app()
with app.app_context():
    engine = db.engine
client = app.test_client()
r = client.post("/api/v1/auth/login", json={"email": sys.argv[2], "password": sys.argv[3]})
assert r.status_code == 200, r.status_code
counted = {}
for name, path in paths.items():
    client.get(path)
    statements = []
    listener = lambda *args: statements.append(args[2])
    event.listen(engine, "before_cursor_execute", listener)
    try:
        r = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    counted[name] = {"status": r.status_code, "queries": len(statements)}
print("bench-queries " + json.dumps(counted))
"""

# The outbox (outbox.py): argv[1] staff texts queued with outbox.enqueue.
QUEUE_TEXTS = """
import sys
from telehealth import create_app
from telehealth.extensions import db
from telehealth.services.messaging import outbox

app = create_app()
with app.app_context():
    for i in range(int(sys.argv[1])):
        outbox.enqueue(f"+1312555{i % 10000:04d}", f"Bench text {i}", "alert", priority="staff")
    db.session.commit()
"""
