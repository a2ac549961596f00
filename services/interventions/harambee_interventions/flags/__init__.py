"""Flags: plans that may be petering out, found by a scheduled check and closed only with an action."""
