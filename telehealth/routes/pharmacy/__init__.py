"""Pharmacy: prescriptions, shipments to the partner pharmacy and its events, the shipping SLA.
HTTP only, one service call per request: prescriptions, shipments.
May call: pharmacy."""
