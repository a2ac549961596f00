"""The cases interventions has been told of: opened, consented with their needs, withdrawn, moved."""
