"""Tests of the billing domain, in every layer: billing, billing_documents, billing_queries, ledger."""
