"""Billing: the catalog, purchases, Stripe events, the credit ledger, refunds, receipts and superbills.
Request and response schemas: billing, billing_documents.
May use: nothing."""
