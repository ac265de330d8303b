"""Tests of the accounts domain, in every layer: admin, auth."""
