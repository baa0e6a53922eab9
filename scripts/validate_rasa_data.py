"""`rasa data validate`, failing on every warning except responses that only actions utter
and intents that only buttons send.

Rasa cannot see that a custom action utters a response, so it warns that such responses are
"not used in any story or rule". Those warnings are accepted when the response name appears
in actions/ or in the channel gateway's handoff (bot/handoff/, which answers while a person
has a conversation). An intent that no one types ("Helpful" under an answer) has no training
data; its warning is accepted when a button in bot/i18n/labels.py sends it ("/<intent>").
Every other warning fails the check. Run with any Python; it calls the Rasa environment's
`rasa`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
UNUSED = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule\.")
UNTRAINED = re.compile(r"The intent '(\w+)' is listed in the domain file, but is not found")
WARNING = re.compile(r"(?:UserWarning|FutureWarning): (.*)")


def main() -> int:
    result = subprocess.run(
        [str(REPO / ".venv/rasa/bin/rasa"), "data", "validate"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    sources = [
        *(REPO / "actions").glob("*.py"),
        *(REPO / "bot" / "handoff").glob("*.py"),
        REPO / "bot" / "rasa_ext" / "server_calls.py",  # the answer to a failed action
    ]
    uttered_by_actions = "\n".join(p.read_text() for p in sources)
    buttons = (REPO / "bot" / "i18n" / "labels.py").read_text()
    problems = []
    for line in (result.stdout + result.stderr).splitlines():
        match = WARNING.search(line)
        if not match or "site-packages" in match.group(1):
            continue
        message = match.group(1).strip()
        unused = UNUSED.search(message)
        if unused and f'"{unused.group(1)}"' in uttered_by_actions:
            continue
        untrained = UNTRAINED.search(message)
        if untrained and f'"/{untrained.group(1)}"' in buttons:
            continue
        problems.append(message)
    if result.returncode != 0:
        problems.append(f"rasa data validate exited with {result.returncode}")
        print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
    for problem in problems:
        print(f"rasa data validate: {problem}", file=sys.stderr)
    if not problems:
        print("rasa data validate: no problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
