"""Pharmacy: prescriptions, shipments to the partner pharmacy and its events, the shipping SLA.
The rules, no HTTP: pharmacy_events, prescriber_views, prescriptions, shipment_board, shipments, shipping_sla.
May call: platform, accounts, billing."""
