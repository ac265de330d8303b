"""Platform: what every domain uses: audit trail, authorization, alerts, on-call rota, health, free-text reading.
The rules, no HTTP: alerts, audit, authz, documents, health, on_call, wording.
May call: nothing (every domain may call it)."""
