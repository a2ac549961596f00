"""Subjects and the vault: a person as a pseudonymous reference, found again by blind index alone."""
