"""Platform: what every domain uses: audit trail, authorization, alerts, on-call rota, health, free-text reading.
Request and response schemas: on_call.
May use: nothing."""
