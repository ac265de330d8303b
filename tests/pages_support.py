"""Page tests with Flask's test client: forms carry the CSRF token a browser would (CSRF is on in tests)."""
from __future__ import annotations

import html as html_module
import re

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
_TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_token(client, url: str = "/login") -> str:
    response = client.get(url, headers=BROWSER)
    match = _TOKEN.search(response.get_data(as_text=True))
    assert match, f"{url} carries no CSRF token (status {response.status_code})"
    return match.group(1)


def submit(client, url: str, data: dict, *, token_from: str | None = None, **kwargs):
    """POST a form as a browser would after opening `token_from` (default: the same URL)."""
    token = csrf_token(client, token_from or url)
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def text_of(response) -> str:
    """The page's visible words, tags stripped and spaces collapsed (for asserting what a person reads)."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip())
