"""A local Twilio, for tests, the benchmark and the demo: it speaks the part of Twilio's REST API
the app uses, and delivers inbound texts to the app's webhook the way Twilio does.

- `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (form fields To, From, Body; HTTP Basic
  auth with the account SID and auth token) answers 201 with a Twilio-shaped message ("SM" + 32 hex).
- `GET /2010-04-01/Accounts/{AccountSid}/Messages.json` with a `To` filter, newest first, paged
  as Twilio does (`PageSize` up to 1,000; `next_page_uri` with `Page` and `PageToken`) in Twilio's
  envelope (what the app's `find_sent` reads).
- Control: `POST /_control/faults` {"mode": "500"|"429"|"timeout"|"400", "count": n} makes the next
  n creates fail that way ("timeout" keeps the message, then answers only after `timeout_sleep`
  seconds, past the client's timeout: the ambiguous case); with `"on": "list"` ("500", "429" or
  "400") the next n calls of the list endpoint (GET Messages.json) fail instead; `GET /_control/messages` (every message
  taken); `POST /_control/reset`; `POST /_control/config` {"auth_token", "webhook_url",
  "public_url", "timeout_sleep"}; `POST /_control/seed` {"to", "count"[, "body"]} adds `count`
  messages to `to` at once (as if sent by others: a busy number's long list);
  `POST /_control/inbound` {"from", "body"[, "message_sid"]} posts a text to the app's webhook, form-encoded and signed (`X-Twilio-Signature` over `public_url`,
  which defaults to `webhook_url`), and answers the app's status and reply.

    python scripts/twilio_server.py --port 8440
"""
from __future__ import annotations

import argparse
import base64
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from email.utils import format_datetime

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

DEFAULTS = {"auth_token": "development-twilio-auth-token", "webhook_url": None, "public_url": None,
            "timeout_sleep": 3.0, "to_number": "+15005550006"}
CONFIG: dict = dict(DEFAULTS)
MESSAGES: list[dict] = []          # every message taken, in order
FAULTS: dict = {"mode": None, "count": 0}
LIST_FAULTS: dict = {"mode": None, "count": 0}  # faults of the list endpoint (GET Messages.json)
_lock = threading.Lock()
API = "/2010-04-01/Accounts/"


def _json(data, status=200):
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _error(status: int, code: int, message: str):
    return _json({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                  "status": status}, status)


def _rfc2822(at: datetime | None) -> str | None:
    return format_datetime(at, usegmt=False).replace("-0000", "+0000") if at else None


def _public(message: dict, account: str, status: str | None = None) -> dict:
    uri = f"{API}{account}/Messages/{message['sid']}.json"
    return {"sid": message["sid"], "account_sid": account, "to": message["to"], "from": message["from"],
            "body": message["body"], "status": status or message["status"], "direction": "outbound-api",
            "date_created": _rfc2822(message["created"]), "date_updated": _rfc2822(message["created"]),
            "date_sent": None if status == "queued" else _rfc2822(message["created"]),
            "num_segments": "1", "num_media": "0", "price": None, "price_unit": "USD", "api_version": "2010-04-01",
            "error_code": None, "error_message": None, "messaging_service_sid": None, "uri": uri,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")}}


def _authorized(request: Request, account: str) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return False
    return user == account and secrets.compare_digest(password, CONFIG["auth_token"])


def _take_fault(faults: dict = FAULTS) -> str | None:
    with _lock:
        if faults["count"] > 0:
            faults["count"] -= 1
            return faults["mode"]
    return None


def _create(request: Request, account: str) -> Response:
    to, from_, body = request.form.get("To", ""), request.form.get("From", ""), request.form.get("Body", "")
    fault = _take_fault()
    if fault == "500":
        return _error(500, 20500, "Internal Server Error")
    if fault == "429":
        return _error(429, 20429, "Too Many Requests")
    if fault == "400" or not (to.startswith("+") and to[1:].isdigit() and 8 <= len(to) <= 16):
        return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if not body:
        return _error(400, 21602, "Message body is required.")
    message = {"sid": "SM" + secrets.token_hex(16), "to": to, "from": from_, "body": body, "status": "sent",
               "created": datetime.now(timezone.utc).replace(microsecond=0)}
    with _lock:
        MESSAGES.append(message)
    if fault == "timeout":
        time.sleep(float(CONFIG["timeout_sleep"]))  # taken, but the answer comes too late
    return _json(_public(message, account, status="queued"), 201)


def _list(request: Request, account: str) -> Response:
    """Newest first, as Twilio pages it: `PageSize` (at most 1,000), and a `next_page_uri` that
    carries `Page` and a `PageToken` naming the last message of this page, so the next page starts
    after it however many messages arrived meanwhile."""
    fault = _take_fault(LIST_FAULTS)
    if fault == "429":
        return _error(429, 20429, "Too Many Requests")
    if fault == "400":
        return _error(400, 20001, "Invalid parameter")
    if fault == "500":
        return _error(500, 20500, "Internal Server Error")
    to = request.args.get("To")
    with _lock:
        found = [m for m in reversed(MESSAGES) if to is None or m["to"] == to]
    try:
        size = max(1, min(1000, int(request.args.get("PageSize", 50))))
        page = max(0, int(request.args.get("Page", 0)))
    except ValueError:
        return _error(400, 20001, "PageSize and Page must be numbers")
    start = page * size
    token = request.args.get("PageToken")
    if token:
        after = next((i for i, m in enumerate(found) if "PA" + m["sid"] == token), None)
        if after is None:
            return _error(400, 20001, "Invalid PageToken")
        start = after + 1
    chunk = found[start:start + size]
    base = f"{API}{account}/Messages.json"
    query = {k: v for k, v in request.args.items() if k not in ("Page", "PageSize", "PageToken")}

    def uri(n: int, token: str | None = None) -> str:
        return base + "?" + urllib.parse.urlencode({**query, "PageSize": size, "Page": n,
                                                    **({"PageToken": token} if token else {})})

    more = start + size < len(found)
    return _json({"messages": [_public(m, account) for m in chunk], "first_page_uri": uri(0),
                  "next_page_uri": uri(page + 1, "PA" + chunk[-1]["sid"]) if more and chunk else None,
                  "previous_page_uri": uri(page - 1) if page > 0 else None, "page": page, "page_size": size,
                  "start": start, "end": start + max(0, len(chunk) - 1),
                  "uri": uri(page, token)})


def deliver_inbound(data: dict) -> Response:
    if not CONFIG["webhook_url"]:
        return _json({"error": "no webhook_url configured"}, 409)
    from twilio.request_validator import RequestValidator

    sid = data.get("message_sid") or "SM" + secrets.token_hex(16)
    fields = {"ToCountry": "US", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "",
              "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received", "FromCity": "",
              "Body": data["body"], "FromCountry": "US", "To": CONFIG["to_number"], "ToZip": "",
              "NumSegments": "1", "MessageSid": sid, "AccountSid": data.get("account_sid", "AC" + "0" * 32),
              "From": data["from"], "ApiVersion": "2010-04-01"}
    signed_url = CONFIG["public_url"] or CONFIG["webhook_url"]
    signature = RequestValidator(CONFIG["auth_token"]).compute_signature(signed_url, fields)
    request = urllib.request.Request(CONFIG["webhook_url"], data=urllib.parse.urlencode(fields).encode(),
                                     method="POST", headers={"X-Twilio-Signature": signature,
                                                             "Content-Type": "application/x-www-form-urlencoded",
                                                             "User-Agent": "TwilioProxy/1.1"})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return _json({"status": response.status, "reply": response.read().decode(), "message_sid": sid})
    except urllib.error.HTTPError as exc:
        return _json({"status": exc.code, "reply": exc.read().decode(), "message_sid": sid})


@Request.application
def app(request: Request) -> Response:
    path = request.path
    if path.startswith("/_control/"):
        action = path.removeprefix("/_control/")
        if action == "faults" and request.method == "POST":
            data = request.get_json()
            with _lock:
                (LIST_FAULTS if data.get("on") == "list" else FAULTS).update(mode=data["mode"],
                                                                           count=int(data.get("count", 1)))
            return _json({"ok": True})
        if action == "messages" and request.method == "GET":
            with _lock:
                return _json({"messages": [_public(m, "AC") for m in MESSAGES]})
        if action == "reset" and request.method == "POST":
            with _lock:
                MESSAGES.clear()
                FAULTS.update(mode=None, count=0)
                LIST_FAULTS.update(mode=None, count=0)
            return _json({"ok": True})
        if action == "seed" and request.method == "POST":
            data = request.get_json()
            at = datetime.now(timezone.utc).replace(microsecond=0)
            seeded = [{"sid": "SM" + secrets.token_hex(16), "to": data["to"], "from": CONFIG["to_number"],
                       "body": f"{data.get('body', 'Seeded text')} {n}", "status": "sent", "created": at}
                      for n in range(int(data["count"]))]
            with _lock:
                MESSAGES.extend(seeded)
            return _json({"count": len(seeded)})
        if action == "config" and request.method == "POST":
            CONFIG.update({k: v for k, v in request.get_json().items() if k in DEFAULTS})
            return _json({"ok": True})
        if action == "inbound" and request.method == "POST":
            return deliver_inbound(request.get_json())
        return _json({"error": "not found"}, 404)
    if path.startswith(API):
        parts = path.removeprefix(API).split("/")
        account = parts[0]
        if not _authorized(request, account):
            return _error(401, 20003, "Authenticate")
        if parts[1:] == ["Messages.json"] and request.method == "POST":
            return _create(request, account)
        if parts[1:] == ["Messages.json"] and request.method == "GET":
            return _list(request, account)
    return _error(404, 20404, "The requested resource was not found")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8440)
    args = parser.parse_args()
    make_server("127.0.0.1", args.port, app, threaded=True).serve_forever()


if __name__ == "__main__":
    main()
