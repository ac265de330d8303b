"""Tests of the records domain, in every layer: fhir_export, record_export, releases."""
