"""HTTP routes: each module translates requests to one service call and renders the result."""
from flask import Flask


def register_routes(app: Flask) -> None:
    from telehealth.routes import (
        admin, assessments, auth, billing, billing_documents, care, docs, health, home_sessions, me, measures,
        messaging, patients, reviews, prescriptions, scheduling, shipments,
    )

    for module in (health, docs, auth, me, admin, patients, assessments, reviews, measures, billing,
                   billing_documents, scheduling, prescriptions, shipments, home_sessions, messaging, care):
        app.register_blueprint(module.bp)
    app.register_blueprint(billing.webhooks)
    app.register_blueprint(scheduling.feeds)
    app.register_blueprint(shipments.webhooks)
    app.register_blueprint(messaging.webhooks)
