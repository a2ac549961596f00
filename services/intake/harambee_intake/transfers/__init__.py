"""A person's identity follows their case when it moves to another county."""
