"""Screening: each outcome with its required reason, and how quickly referrals are screened."""
