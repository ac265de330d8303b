"""Third-party browser scripts, served by the app itself from the npm packages `make assets` installs
(package.json pins each version; nothing is copied into the repository, nothing comes from a CDN).

Only the files named here are served: `/assets/vendor/<name>`.
"""
from pathlib import Path

from flask import Blueprint, abort, current_app, send_file

from telehealth.pages import page

bp = Blueprint("assets", __name__, url_prefix="/assets")

# name in the URL -> file inside node_modules
VENDOR_FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "twilio-video.min.js": "twilio-video/dist/twilio-video.min.js",
}


def vendor_path(name: str) -> Path | None:
    relative = VENDOR_FILES.get(name)
    if relative is None:
        return None
    return Path(current_app.config["ASSETS_DIR"]) / relative


@bp.get("/vendor/<name>")
@page(public=True)
def vendor(name: str):
    path = vendor_path(name)
    if path is None:
        abort(404)
    if not path.is_file():
        current_app.logger.error("vendor asset missing; run `make assets`", extra={"asset": name})
        abort(404)
    return send_file(path, mimetype="text/javascript", max_age=3600, conditional=True)
