"""Responses that carry a document (HTML, PDF, a download) with PHI in it: never cached, never sniffed."""
from flask import Response

HTML = "text/html"
PDF = "application/pdf"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache", "X-Content-Type-Options": "nosniff"}
# A printable page drawn by us may load nothing, from anywhere.
HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def html_response(document: str) -> Response:
    return Response(document, mimetype=HTML,
                    headers={**NO_STORE, "Content-Security-Policy": HTML_POLICY, "Referrer-Policy": "no-referrer"})


def pdf_response(document: bytes, filename: str) -> Response:
    return Response(document, mimetype=PDF,
                    headers={**NO_STORE, "Content-Disposition": f'inline; filename="{filename}"'})
