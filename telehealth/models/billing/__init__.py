"""Billing: the catalog, purchases, Stripe events, the credit ledger, refunds, receipts and superbills.
Tables and state verbs: billing.
May use: accounts."""
