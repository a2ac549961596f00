"""Shared library of the Harambee services."""
