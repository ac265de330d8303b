"""Tests of the scheduling domain, in every layer: scheduling."""
