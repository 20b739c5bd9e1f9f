"""Runs one app (a scenario) end to end on one device: probes, scoring, evidence."""
