"""Tests of the pharmacy domain, in every layer: prescriptions, shipments."""
