"""Encryption of sensitive fields at rest (Fernet, with key rotation through MultiFernet).

Keys come from FIELD_ENCRYPTION_KEYS (newest first). Outside production, when no key is set, one is
derived from SECRET_KEY so a bare `make run` works; production refuses to start without keys.
"""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

_fernet: MultiFernet | None = None


def configure(keys: str | None, secret_key: str) -> None:
    global _fernet
    if keys:
        fernets = [Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()]
    else:
        derived = base64.urlsafe_b64encode(hashlib.sha256(b"field-key:" + secret_key.encode()).digest())
        fernets = [Fernet(derived)]
    _fernet = MultiFernet(fernets)


def encrypt(plaintext: str) -> str:
    if _fernet is None:
        raise RuntimeError("field encryption is not configured (create_app configures it)")
    return _fernet.encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    if _fernet is None:
        raise RuntimeError("field encryption is not configured (create_app configures it)")
    try:
        return _fernet.decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong or rotated-out key: fail loudly, never return garbage
        raise RuntimeError("a sensitive field could not be decrypted with the configured keys") from exc
