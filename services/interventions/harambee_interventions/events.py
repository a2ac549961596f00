"""The topic and source of the events interventions raises (its access records)."""

TOPIC = "interventions.events"
SOURCE = "/harambee/interventions"
