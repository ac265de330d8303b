"""HTTP routes: each module translates requests to one service call and renders the result."""
from flask import Flask


def register_routes(app: Flask) -> None:
    from telehealth.routes.accounts import admin, auth, me, patients
    from telehealth.routes.billing import billing, billing_documents
    from telehealth.routes.care import care, coaching, follow_ups, outcomes
    from telehealth.routes.home_care import home_sessions
    from telehealth.routes.messaging import messaging
    from telehealth.routes.pharmacy import prescriptions, shipments
    from telehealth.routes.platform import docs, health
    from telehealth.routes.records import records
    from telehealth.routes.scheduling import scheduling
    from telehealth.routes.screening import assessments, measures, reviews

    for module in (health, docs, auth, me, admin, patients, assessments, reviews, measures, billing,
                   billing_documents, scheduling, prescriptions, shipments, home_sessions, messaging,
                   outcomes, follow_ups, coaching, records, care):
        app.register_blueprint(module.bp)
    app.register_blueprint(billing.webhooks)
    app.register_blueprint(scheduling.feeds)
    app.register_blueprint(shipments.webhooks)
    app.register_blueprint(messaging.webhooks)
