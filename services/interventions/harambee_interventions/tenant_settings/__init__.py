"""A tenant's settings for intervention tracking: when a plan counts as stalled, reviews and follow-ups."""
