"""HTTP routes: each module translates requests to one service call and renders the result."""
from flask import Flask


def register_routes(app: Flask) -> None:
    from telehealth.routes import (
        admin, assessments, auth, billing, billing_documents, care, coaching, docs, follow_ups, health, home_sessions,
        me, measures, messaging, outcomes, patients, records, reviews, prescriptions, scheduling, shipments,
    )

    for module in (health, docs, auth, me, admin, patients, assessments, reviews, measures, billing,
                   billing_documents, scheduling, prescriptions, shipments, home_sessions, messaging,
                   outcomes, follow_ups, coaching, records, care):
        app.register_blueprint(module.bp)
    app.register_blueprint(billing.webhooks)
    app.register_blueprint(scheduling.feeds)
    app.register_blueprint(shipments.webhooks)
    app.register_blueprint(messaging.webhooks)
