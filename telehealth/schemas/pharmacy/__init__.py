"""Pharmacy: prescriptions, shipments to the partner pharmacy and its events, the shipping SLA.
Request and response schemas: prescriptions, shipments.
May use: nothing."""
