"""Where the fallback the machine chose takes the caller: a stored target with no text is the outcome's shipped context."""

from __future__ import annotations

import uuid

import pytest

from teamfoned.domain.team_settings import FallbackPolicy
from teamfoned.routing.model import CallOutcome, FallbackKind, FallbackTarget
from teamfoned.telephony.fallback import CLOSED_CONTEXT, DEFAULT_CONTEXT, plan_fallback


@pytest.mark.parametrize(("outcome", "context"), [(CallOutcome.CLOSED, CLOSED_CONTEXT),
                                                   (CallOutcome.NO_ONE_AVAILABLE, DEFAULT_CONTEXT),
                                                   (CallOutcome.TIMED_OUT, DEFAULT_CONTEXT)])
@pytest.mark.parametrize("target", [None, FallbackTarget(FallbackKind.DIALPLAN, None),
                                    FallbackTarget(FallbackKind.DIALPLAN, "  ")])
def test_no_target_is_the_shipped_context_of_the_outcome(outcome, context, target) -> None:
    plan = plan_fallback(target, "31201234567", outcome=outcome, policy=FallbackPolicy(),
                         tenant_id=uuid.uuid4())
    assert (plan.context, plan.extension, plan.refused) == (context, "31201234567", None)
