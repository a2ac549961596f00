"""Consents as intake records them: which registry organisations a person's consent names, and whether it holds."""
