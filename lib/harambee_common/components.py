"""The components of the platform: one list that the stack, the gateway's routing, the CLI and the tests read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Component:
    """One deployable component: its name, default port, database and the topic it publishes on."""

    name: str
    port: int
    # The CloudEvents `source` of its events (the gateway's predates the /harambee/<name> pattern).
    source: str = ""

    def __post_init__(self) -> None:
        if not self.source:
            object.__setattr__(self, "source", f"/harambee/{self.name}")

    @property
    def package(self) -> str:
        """Its Python package, run as `python -m <package>`."""
        return f"harambee_{self.name}"

    @property
    def database(self) -> str:
        """Its own database (one per component)."""
        return f"harambee_{self.name}"

    @property
    def topic(self) -> str:
        """The one topic it publishes its events on."""
        return "registry.events" if self.name == "gateway" else f"{self.name}.events"

    @property
    def url_variable(self) -> str:
        """The variable that tells the gateway where the service listens."""
        return f"{self.name.upper()}_URL"


GATEWAY = Component("gateway", 8000, source="/gateway/registry")
INTAKE = Component("intake", 8101)
ASSESSMENT = Component("assessment", 8102)
INTERVENTIONS = Component("interventions", 8103)
AUDIT = Component("audit", 8104)
# The monitoring and evaluation read model: indicators from every service's events (codes and dates only).
MONITORING = Component("monitoring", 8105)

# In start-up order: the gateway first (every service verifies tokens against its keys).
COMPONENTS: tuple[Component, ...] = (GATEWAY, INTAKE, ASSESSMENT, INTERVENTIONS, AUDIT, MONITORING)
# The services behind the gateway, routed by their name as the first path segment.
SERVICES: tuple[Component, ...] = tuple(c for c in COMPONENTS if c is not GATEWAY)
TOPICS: tuple[str, ...] = tuple(c.topic for c in COMPONENTS)


def component(name: str) -> Component:
    """The component of that name; KeyError for an unknown one."""
    for c in COMPONENTS:
        if c.name == name:
            return c
    raise KeyError(name)
