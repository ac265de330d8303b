"""Video rooms through Twilio Video: an access token per participant, made offline with the
`twilio` SDK's AccessToken and VideoGrant (no request to Twilio happens here)."""
from __future__ import annotations

from flask import current_app
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VideoGrant


def access_token(*, identity: str, room: str, ttl_seconds: int) -> str:
    cfg = current_app.config
    token = AccessToken(cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_API_KEY_SID"], cfg["TWILIO_API_KEY_SECRET"],
                        identity=identity, ttl=ttl_seconds)
    token.add_grant(VideoGrant(room=room))
    jwt = token.to_jwt()
    return jwt.decode() if isinstance(jwt, bytes) else jwt
