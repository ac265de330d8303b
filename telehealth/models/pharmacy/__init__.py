"""Pharmacy: prescriptions, shipments to the partner pharmacy and its events, the shipping SLA.
Tables and state verbs: prescriptions, shipments.
May use: accounts."""
