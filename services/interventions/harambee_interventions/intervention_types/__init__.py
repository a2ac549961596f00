"""The tenant's catalogue of intervention types: a default set, which a tenant edits type by type."""
