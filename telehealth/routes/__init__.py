"""HTTP routes: each module translates requests to one service call and renders the result."""
from flask import Flask


def register_routes(app: Flask) -> None:
    from telehealth.routes import admin, auth, docs, health, me, patients

    for module in (health, docs, auth, me, admin, patients):
        app.register_blueprint(module.bp)
