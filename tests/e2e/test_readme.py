"""The README's curl session works as printed, against a freshly started stack."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_session() -> str:
    """The shell block that follows the readme-session marker."""
    text = README.read_text()
    match = re.search(r"<!-- readme-session.*?-->\s*```sh\n(.*?)```", text, re.S)
    assert match, "README.md has no readme-session block"
    return match.group(1)


def test_the_readme_session_works_as_printed(stack):
    script = readme_session()
    script = script.replace("GATEWAY=http://127.0.0.1:8000", f"GATEWAY={stack.gateway_url}")
    script = script.replace("CREDENTIALS=.run/demo-credentials.json", f"CREDENTIALS={stack.credentials_path}")
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, f"{result.stderr}\n--- the session's output until then:\n{result.stdout}"
    lines = result.stdout.strip().splitlines()
    assert '"status":"received"' in lines[0]
    assert "Amina" not in result.stdout and "Odhiambo" not in result.stdout
    assert lines[2] == "accept"
    assert '"subject_ref"' in lines[3]
    audit = lines[4]
    for event_type in ("referral.received", "referral.screened", "referral.accepted", "case.opened",
                       "access.recorded"):
        assert event_type in audit
    # Steps 3 to 6: the agency's answer, submission, four eyes, approval, adoption, consent.
    assert lines[5:-11][1:] == ["answered", "submitted", "403", "approved", "adopt", "consented"]
    # Steps 7 to 9: the plan for the assessed needs, the provider's own tasks (goals, nothing of the case),
    # its session, the assessment hidden from it (as if there were none), no flag yet; a review, the closure,
    # the follow-ups.
    plan, tasks, session, assessment, flags, review, closure, follow_ups = lines[-11:-3]
    assert plan == "(1, [('education', 'open'), ('online_exposure', 'open')])"
    assert "Recognises and leaves recruiting chats" in tasks and "online_exposure" not in tasks
    assert session.endswith("True)")
    assert assessment == "404"
    assert flags == "0"
    # The first goal met, the second not, the plan kept, the next review as asked.
    assert review == "([True, False], False, True)"
    # Closed with its reason: the met goal's task completed, the other ended.
    assert closure == "('closed', 'substantially_reduced', ['completed', 'ended'])"
    # The tenant's default follow-ups, 6 and 12 months after exit, none recorded yet.
    assert follow_ups == "[(6, None), (12, None)]"
    # Monitoring: the county's funnel over the demo month, and the national read of it.
    county = ast.literal_eval(lines[-3])  # {'referred': ..., 'screened': ..., 'accepted': ...}
    assert county["referred"] > 0 and 0 < county["accepted"] <= county["screened"] <= county["referred"]
    assert ast.literal_eval(lines[-2]) == (["ke-mombasa"], "suppression", True)
    assert lines[-1] == "404"
