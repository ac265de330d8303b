"""HTTP routes: each module translates requests to one service call and renders the result.

The JSON API modules are listed below; the portal's page modules are found by name: every
`telehealth/routes/<domain>/*pages.py` holding a blueprint `bp` is registered (see telehealth/pages.py).
"""
import importlib
import pkgutil

from flask import Flask

DOMAINS = ("platform", "accounts", "screening", "billing", "scheduling", "pharmacy", "messaging", "home_care",
           "care", "records")


def page_modules():
    """Every page module, in domain order then by name."""
    for domain in DOMAINS:
        package = importlib.import_module(f"telehealth.routes.{domain}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if info.name.endswith("pages"):
                yield importlib.import_module(f"telehealth.routes.{domain}.{info.name}")


def register_routes(app: Flask) -> None:
    from telehealth.routes.accounts import admin, auth, me, patients
    from telehealth.routes.billing import billing, billing_documents
    from telehealth.routes.care import care, coaching, follow_ups, journal, outcomes
    from telehealth.routes.home_care import home_sessions
    from telehealth.routes.messaging import messaging
    from telehealth.routes.pharmacy import prescriptions, shipments
    from telehealth.routes.platform import assets, docs, health
    from telehealth.routes.records import records
    from telehealth.routes.scheduling import scheduling
    from telehealth.routes.screening import assessments, measures, reviews

    for module in (health, docs, assets, auth, me, admin, patients, assessments, reviews, measures, billing,
                   billing_documents, scheduling, prescriptions, shipments, home_sessions, messaging,
                   outcomes, follow_ups, coaching, journal, records, care):
        app.register_blueprint(module.bp)
    app.register_blueprint(billing.webhooks)
    app.register_blueprint(scheduling.feeds)
    app.register_blueprint(shipments.webhooks)
    app.register_blueprint(messaging.webhooks)
    for module in page_modules():
        app.register_blueprint(module.bp)
