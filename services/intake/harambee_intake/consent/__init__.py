"""Consent: who gave it, for what and for whom, how it is evidenced, until when; and its withdrawal."""
