"""No input makes any endpoint answer 5xx, and every 4xx is RFC 9457 problem+json.

Every operation in ``/openapi.json`` is fuzzed with schema-valid and mutated
requests (hypothesis, derandomized so CI is reproducible), signed in as a
curator (admin operations as an admin) or, for two fifths of the examples,
anonymously or with generated credentials. Each operation is a subtest, so one
run reports every failing one.
"""

from __future__ import annotations

import os

import pytest

from audotics.config import Settings
from tests.fuzz.harness import Budget, running
from tests.fuzz.wire import load_schema

# Examples per operation and mode: about 1.5 minutes of CPU for both backends together.
# PostgreSQL gets fewer generated ones (it is slower) but the longer NUL sweep, since
# NUL is what only it refuses.
BUDGETS = {
    "sqlite": Budget(positive=16, negative=12, nul_sweep=1),
    "postgresql": Budget(positive=8, negative=8, nul_sweep=3),
}


# AUDOTICS_FUZZ_ONLY="playlists,PATCH /api/v1/me" fuzzes only the operations whose label
# ("METHOD /path") contains one of the comma-separated parts: for reproducing a failure.
ONLY = [part for part in os.environ.get("AUDOTICS_FUZZ_ONLY", "").split(",") if part]


def _backend(settings: Settings) -> str:
    return "postgresql" if settings.database_url.startswith("postgresql") else "sqlite"


@pytest.mark.timeout(900)
def test_every_operation_survives_fuzzing(settings: Settings, subtests: pytest.Subtests) -> None:
    budget = BUDGETS[_backend(settings)]
    with running(settings) as target:
        schema = load_schema(target.openapi())
        operations = [result.ok() for result in schema.get_all_operations()]
        # Deleting runs last, so other operations still find the objects they address.
        operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))
        assert len(operations) >= 50, [op.label for op in operations]
        for operation in operations:
            if ONLY and not any(part in operation.label for part in ONLY):
                continue
            with subtests.test(msg=operation.label):
                target.fuzz(operation, budget)
