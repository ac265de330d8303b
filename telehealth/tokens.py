"""Bearer secrets handed to a client (session tokens, assessment tokens): only their hash is stored."""
from __future__ import annotations

import hashlib
import secrets


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh random token and the hash to store."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)
