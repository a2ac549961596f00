"""The two starter frameworks every tenant begins with, written for Harambee (not copied from any instrument).

`concerns-and-strengths` asks what is present in a person's life that worries the programme, and what
holds them: engagement, intent and capability; beliefs and attitudes, social context, history,
motivations; and the protective factors and resources beside them. `needs-screen` asks which kinds of
support might help; its item codes are the needs that interventions ties plan items to.

A tenant adapts them by publishing new versions of its own; these are version 1.
"""

from __future__ import annotations

from harambee_assessment.frameworks.definition import FrameworkDefinition

PRESENCE = {"code": "presence", "options": [
    {"code": "not_present", "label": "Not present", "rank": 0},
    {"code": "partly_present", "label": "Partly present", "rank": 1},
    {"code": "present", "label": "Present", "rank": 2},
    {"code": "not_known", "label": "Not known", "rank": None},
]}
NEED = {"code": "need", "options": [
    {"code": "no_need", "label": "No need seen", "rank": 0},
    {"code": "some_need", "label": "Some need", "rank": 1},
    {"code": "clear_need", "label": "Clear need", "rank": 2},
    {"code": "not_known", "label": "Not known", "rank": None},
]}


def _items(*entries: tuple[str, str, str], scale: str = "presence") -> list[dict[str, str]]:
    return [{"code": code, "label": label, "guidance": guidance, "scale": scale} for code, label, guidance in entries]


CONCERNS_AND_STRENGTHS = FrameworkDefinition.model_validate({
    "scales": [PRESENCE],
    "domains": [
        {"code": "engagement", "label": "Engagement", "kind": "concerns", "items": _items(
            ("engagement_group", "Draw to a group or movement",
             "Time, loyalty or identity given to a group that endorses harm; say what was seen, not what is assumed."),
            ("engagement_grievance", "Grievance taken up by a cause",
             "A personal or shared grievance that a cause offers to answer."),
        )},
        {"code": "intent", "label": "Intent", "kind": "concerns", "items": _items(
            ("intent_harm_expressed", "Expressed wish to harm others",
             "Words or actions that show a wish to hurt people for a cause; record who heard it and when."),
            ("intent_justification", "Harm described as justified",
             "Violence spoken of as necessary, deserved or heroic."),
        )},
        {"code": "capability", "label": "Capability", "kind": "concerns", "items": _items(
            ("capability_means", "Access to means",
             "Access to weapons, materials or people who could help cause harm."),
            ("capability_skills", "Skills or training", "Skills or training that could be used to cause harm."),
        )},
        {"code": "beliefs", "label": "Beliefs and attitudes", "kind": "concerns", "items": _items(
            ("beliefs_us_and_them", "Us-and-them thinking",
             "Others described as enemies or less than human. Beliefs alone are not a concern without behaviour."),
        )},
        {"code": "social_context", "label": "Social context", "kind": "concerns", "items": _items(
            ("social_isolation", "Cut off from family or friends", "Withdrawal from people who used to matter."),
            ("social_online", "Online contacts urging violence", "Contacts or spaces online that push towards harm."),
        )},
        {"code": "history", "label": "History", "kind": "concerns", "items": _items(
            ("history_violence", "Past violence", "Violence used or experienced before, in any setting."),
        )},
        {"code": "motivations", "label": "Motivations", "kind": "concerns", "items": _items(
            ("motivation_belonging", "Seeking belonging or status",
             "A need for identity, belonging, meaning or status that a group appears to meet."),
        )},
        {"code": "protective", "label": "Protective factors and resources", "kind": "strengths", "items": _items(
            ("strength_family", "Supportive family or carer", "Someone at home who cares and is listened to."),
            ("strength_school_work", "Engaged in school, training or work", "A place to go and a role to play."),
            ("strength_trusted_adult", "A trusted adult or mentor", "Someone outside the family they turn to."),
            ("strength_openness", "Open to talking and to help", "Willingness to discuss worries and accept support."),
            ("strength_rejects_violence", "Rejects violence", "Says or shows that harming people is wrong."),
        )},
    ],
})

NEEDS_SCREEN = FrameworkDefinition.model_validate({
    "scales": [NEED],
    "domains": [
        {"code": "needs", "label": "Needs", "kind": "needs", "items": _items(
            ("education", "Education", "Attendance, learning difficulties, exclusion, wish to return to school.",
             ),
            ("employment", "Employment and livelihood", "Work, vocational training, income for the household."),
            ("family", "Family", "Conflict at home, parenting support, a carer who needs help too."),
            ("mental_health", "Mental health", "Distress, trauma, substance use; refer to health services."),
            ("housing", "Housing", "A safe and stable place to live."),
            ("online_exposure", "Online exposure", "Time in online spaces that push towards harm; online safety."),
            scale="need",
        )},
    ],
})

# code, title, definition
STARTERS: tuple[tuple[str, str, FrameworkDefinition], ...] = (
    ("concerns-and-strengths", "Concerns and strengths (Harambee starter)", CONCERNS_AND_STRENGTHS),
    ("needs-screen", "Needs screen (Harambee starter)", NEEDS_SCREEN),
)
