"""TopicBirths tells a reborn topic by its id, even when it was looked at while the topic was missing."""

from __future__ import annotations

from harambee_common.topic_births import TopicBirths


class Answers(TopicBirths):
    """TopicBirths with the broker's answers scripted (the integration is in tests/faults)."""

    def __init__(self, answers: list[dict[str, str]]) -> None:
        super().__init__("127.0.0.1:9", ["a.events", "b.events"], every=0)
        self._answers = answers

    def _read_ids(self) -> dict[str, str]:
        return self._answers.pop(0)


def test_a_changed_id_is_a_rebirth_and_the_first_look_is_not():
    births = Answers([{"a.events": "1", "b.events": "2"}, {"a.events": "1", "b.events": "2"},
                      {"a.events": "3", "b.events": "2"}])
    assert births.reborn() == set()
    assert births.reborn() == set()
    assert births.reborn() == {"a.events"}


def test_a_topic_missing_for_a_while_is_reborn_when_it_returns_under_a_new_id():
    births = Answers([{"a.events": "1", "b.events": "2"}, {}, {"a.events": "1"}, {"a.events": "1", "b.events": "9"}])
    births.reborn()
    assert births.reborn() == set()  # the restarted broker has not created them yet
    assert births.reborn() == set()
    assert births.reborn() == {"b.events"}
