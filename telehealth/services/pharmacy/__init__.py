"""Pharmacy: prescriptions, shipments to the partner pharmacy and its events, the shipping SLA.
The rules, no HTTP: pharmacy_events, prescriptions, shipment_board, shipments, shipping_sla.
May call: platform, accounts, billing."""
