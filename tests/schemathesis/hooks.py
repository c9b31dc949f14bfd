"""Schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

One narrow exception, and nothing else: HiEnergy reports a taken email as
`422 {"errors": {"email": ["has already been taken"]}}` (the seed contract; the operator API
says 409 for the same thing, which positive_data_acceptance already accepts). Schemathesis
draws emails from a small alphabet and sets them on users 1 and 2 in turn, so a schema-valid
PATCH can collide with the other user's address. Such a 422 is dropped from the
"schema-valid request rejected" check only when *every* error it names is that conflict; any
other 422 on valid data still fails the run. Dropped failures are counted in the summary.
"""

import json

import schemathesis

TAKEN = "has already been taken"


def _only_taken_conflicts(response) -> bool:
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, dict) or not errors:
        return False
    return all(isinstance(msgs, list) and msgs and all(m == TAKEN for m in msgs) for msgs in errors.values())


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure except a HiEnergy 422 that only reports a taken email."""
    if (
        getattr(failure, "code", None) == "ST202"
        and case.operation.label == "PATCH /api/v1/users/{id}"
        and response is not None
        and response.status_code == 422
        and _only_taken_conflicts(response)
    ):
        return False
    return True
