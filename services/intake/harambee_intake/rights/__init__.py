"""The person's rights: access, rectification and erasure, each tracked against its due date."""
