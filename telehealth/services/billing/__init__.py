"""Billing: the catalog, purchases, Stripe events, the credit ledger, refunds, receipts and superbills.
The rules, no HTTP: billing_documents, catalog, ledger, purchases, refunds, stripe_events.
May call: platform, accounts, screening."""
