"""The interventions service: catalogue, providers, plans, sessions, reviews and programme indicators."""
