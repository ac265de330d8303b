"""Password hashing (argon2id) with costs from config, and the password policy."""
from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_hashers: dict[tuple[int, int], PasswordHasher] = {}
MAX_LENGTH = 256


def _hasher() -> PasswordHasher:
    key = (current_app.config["ARGON2_TIME_COST"], current_app.config["ARGON2_MEMORY_COST"])
    if key not in _hashers:
        _hashers[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1])
    return _hashers[key]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def unusable_password_hash() -> str:
    """A hash nobody knows the password of: for accounts that must set theirs by invitation."""
    return hash_password(secrets.token_urlsafe(32))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


_DUMMY: dict[tuple[int, int], str] = {}


def burn_verify_time(password: str) -> None:
    """Spend the time a real verification takes, so unknown emails cannot be told apart by timing."""
    key = (current_app.config["ARGON2_TIME_COST"], current_app.config["ARGON2_MEMORY_COST"])
    if key not in _DUMMY:
        _DUMMY[key] = hash_password("not-a-real-password")
    verify_password(_DUMMY[key], password)


def policy_rules() -> str:
    """The password policy in words, for the hint beside a new-password field (`policy_problems` checks it)."""
    return (f"Use at least {current_app.config['PASSWORD_MIN_LENGTH']} characters. A few words you will remember "
            "work well; avoid repeating one character, and do not include your email address.")


def policy_problems(password: str, *, email: str | None = None) -> list[str]:
    problems = []
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        problems.append(f"Use at least {minimum} characters.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    if len(set(password)) < 4:
        problems.append("Use a less repetitive password.")
    if email and email.split("@")[0].lower() in password.lower() and len(email.split("@")[0]) >= 4:
        problems.append("Do not include your email address in the password.")
    return problems
