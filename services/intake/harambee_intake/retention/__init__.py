"""Retention: referrals past their time are minimised, and people no longer needed are erased."""
