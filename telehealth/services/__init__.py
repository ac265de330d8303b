"""Business rules, one module per capability. Nothing here knows about HTTP requests."""
