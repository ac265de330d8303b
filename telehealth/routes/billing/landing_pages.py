"""The landing page at `/`: what the program is, who it is for and not for, the whole price of each
package from the catalog (`catalog.list_products`, as GET /api/v1/products), how it works, and the
way in: the free screening.

A signed-in patient who opens `/` goes to their own home page once it exists; staff stay here until
their own start pages do. The eligibility words are read from the clinical policy, so the page says
what the screening enforces.
"""
from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user

from telehealth.models.billing.billing import ProductKind
from telehealth.pages import page
from telehealth.policy import current_policy
from telehealth.services.billing import catalog

bp = Blueprint("landing", __name__)


@bp.get("/")
@page(public=True)
def index():
    if current_user.is_authenticated and not current_user.is_staff and "home.index" in current_app.view_functions:
        return redirect(url_for("home.index"))
    return render_template("billing/landing.html", products=catalog.list_products(), policy=current_policy(),
                           subscription=ProductKind.SUBSCRIPTION)
