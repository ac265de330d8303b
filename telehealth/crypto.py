"""Encryption of sensitive fields at rest (Fernet, with key rotation through MultiFernet).

Keys come from FIELD_ENCRYPTION_KEYS (comma separated, newest first: old keys still decrypt).
Outside production, when no key is set, one is derived from SECRET_KEY so a bare `make run` works;
production refuses to start without keys. The keys belong to the app, so two apps in one process
(tests) never share them.
"""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app

_EXTENSION = "telehealth.field_crypto"


def init_app(app: Flask) -> None:
    keys = app.config.get("FIELD_ENCRYPTION_KEYS")
    if keys:
        fernets = [Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()]
    else:
        derived = hashlib.sha256(b"field-key:" + app.config["SECRET_KEY"].encode()).digest()
        fernets = [Fernet(base64.urlsafe_b64encode(derived))]
    app.extensions[_EXTENSION] = MultiFernet(fernets)


def _fernet() -> MultiFernet:
    return current_app.extensions[_EXTENSION]


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong or retired key: fail loudly, never return garbage
        raise RuntimeError("a sensitive field could not be decrypted with the configured keys") from exc
