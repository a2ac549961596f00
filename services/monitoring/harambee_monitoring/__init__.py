"""Monitoring and evaluation: programme indicators and national figures, from every service's events."""
