"""Referrals: taking them in, listing them, and what each audience sees of one."""
