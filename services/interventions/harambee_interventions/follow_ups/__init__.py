"""Follow-ups after exit: scheduled at closure (6 and 12 months by default), flagged when due, recorded in codes."""
