"""What an event's data is: a Pydantic model per event type, registered under that type's name.

Every event that crosses a service boundary has one. A producer builds the model, so a missing or
misspelt field fails where it is written, not in another service; a consumer gets the event's data
validated against the same model (an event that does not fit is parked, never half-applied).
Models hold references and codes only: never a name, a date of birth, contact details or free text
about a person.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from harambee_common.events import Event, MalformedEvent
from harambee_common.signing import UnverifiedEvent

Data = TypeVar("Data", bound="EventData")


class EventData(BaseModel):
    """The data of one event type; `type` is the CloudEvents type it travels as."""

    # Unknown fields are refused on both sides: the catalogue is shared, so a field is added here first.
    # A docstring under a field is its meaning on the reference page.
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    type: ClassVar[str]
    # The topic it is published on (its producer's); None for types every service publishes on its own.
    topic: ClassVar[str | None]

    @classmethod
    def of(cls: type[Data], event: Event) -> Data:
        """The event's data as this model (validated once, when the consumer decoded the event)."""
        if isinstance(event.payload, cls):
            return event.payload
        if event.type != cls.type:
            raise MalformedEvent(f"a {event.type} event is not a {cls.type}")
        return parse(cls, event.data)

    def dump(self) -> dict[str, Any]:
        """The JSON-ready data the event carries."""
        return self.model_dump(mode="json")


CATALOGUE: dict[str, type[EventData]] = {}


def event_type(name: str, *, topic: str | None) -> Callable[[type[Data]], type[Data]]:
    """Registers a model as the data of the event type `name`, published on `topic` (None: on every service's)."""

    def register(cls: type[Data]) -> type[Data]:
        if name in CATALOGUE:
            raise ValueError(f"event type {name} is catalogued twice")
        cls.type = name
        cls.topic = topic
        CATALOGUE[name] = cls
        return cls

    return register


def parse(model: type[Data], data: dict[str, Any]) -> Data:
    """Validates an event's data against its model; MalformedEvent (parked by consumers) when it does not fit."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(map(str, e["loc"])) or "data" for e in exc.errors()})
        raise MalformedEvent(f"{model.type}: invalid field(s) {', '.join(fields)}") from None


def check_published_on(event_type: str, topic: str) -> None:
    """UnverifiedEvent unless a type is published on topic (by its producer; a shared type, by any)."""
    model = CATALOGUE.get(event_type)
    if model is not None and model.topic not in (None, topic):
        raise UnverifiedEvent(f"{event_type} is published on {model.topic}, not {topic}")


def validated(event: Event) -> Event:
    """The event with its data checked against the catalogue and attached as `payload`."""
    model = CATALOGUE.get(event.type)
    if model is None:
        raise MalformedEvent(f"{event.type} is not in the event catalogue")
    return event.with_payload(parse(model, event.data))
