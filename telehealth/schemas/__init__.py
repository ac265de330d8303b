"""Pydantic request and response schemas, one package per domain; `common` holds the shared field types."""
