"""Adapters to outside systems, one module each, chosen by config."""
