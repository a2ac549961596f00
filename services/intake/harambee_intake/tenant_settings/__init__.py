"""A tenant's settings, as data: each has a schema and a default, and changes need If-Match."""
