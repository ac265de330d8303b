"""Billing: the catalog, purchases, Stripe events, the credit ledger, refunds, receipts and superbills.
HTTP only, one service call per request: billing, billing_documents.
May call: billing."""
