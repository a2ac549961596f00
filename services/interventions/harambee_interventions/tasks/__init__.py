"""A provider's own tasks: listed with the goal and a pseudonymous reference, sessions and progress recorded."""
