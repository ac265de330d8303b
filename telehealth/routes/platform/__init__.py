"""Platform: what every domain uses: audit trail, authorization, alerts, on-call rota, health, free-text reading.
HTTP only, one service call per request: docs, health.
May call: platform."""
