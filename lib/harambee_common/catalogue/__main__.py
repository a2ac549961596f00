"""Prints the event catalogue's reference page: `python -m harambee_common.catalogue > docs/events.md`."""

from harambee_common.catalogue.reference import render

print(render(), end="")
