"""Intervention providers: registry organisations (and named practitioners) vetted per intervention type."""
