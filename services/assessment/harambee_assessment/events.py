"""The topic and source of the events assessment raises (cases, transfers, access records)."""

TOPIC = "assessment.events"
SOURCE = "/harambee/assessment"
