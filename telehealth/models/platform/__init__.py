"""Platform: what every domain uses: audit trail, authorization, alerts, on-call rota, health, free-text reading.
Tables and state verbs: alerts, audit.
May use: accounts."""
