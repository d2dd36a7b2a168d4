"""Fault rules: make the emulator misbehave the way real services do, on purpose.

A `FaultRule` names where it applies (a provider, or an adapter's name for all its providers,
and one of its routes: the operation names each adapter declares, see
[`Adapter.operations`][videoedit_emulator.web.adapter.Adapter.operations]) and what goes wrong there:

==================  ========================================================================
kind                what the caller sees
==================  ========================================================================
``status``          an HTTP error (``status`` 400–599) with the body in that provider's own
                    error format (its adapter's ``error_response``: DashScope JSON, the
                    Vtrix/APIMart envelopes, OSS XML, a plugin's own), with
                    ``code``, ``message`` and ``Retry-After`` (``retry_after``) when given
``rate_limit``      429 in the provider's words (OSS: 503 ``SlowDown``, as OSS throttles),
                    with ``Retry-After: <retry_after>`` only when ``retry_after`` is set
``latency``         the normal answer, ``seconds`` later
``reset``           the connection is dropped without an answer (a TCP reset)
``malformed``       ``status`` (200 by default) with a body that is not valid JSON
                    (adapters that answer JSON only: a download cannot be "malformed JSON")
``task_failure``    the create call succeeds, and the task it made ends FAILED with ``code``
                    and ``message`` (e.g. ``DataInspectionFailed``, or ``InvalidParameter``
                    "Failed to download …"); create routes only
==================  ========================================================================

``when`` says whether the fault strikes ``before`` the request reaches the engine (nothing
happened: a refused or lost request) or ``after`` it (the engine did the work and the
*answer* is lost, slowed or replaced: the case where a client cannot know whether its task
exists). A ``reset`` after the work sends the head and half the body, then drops the line.

Which requests a rule takes: the ``skip`` first matching requests go through untouched;
then each matching request is hit with ``probability`` (drawn from a generator seeded with
``seed``, so a run is repeatable when requests arrive in the same order); after ``times``
hits (``None``: no limit) the rule is spent. Rules are checked in the order they were added;
every ``latency`` and ``task_failure`` rule that hits applies, and the first hit among the
other kinds decides the answer.

The same rule can be written as JSON (the control plane, `FaultRule.from_json`) or as
a one-line spec (``--fault`` of ``videoedit-emulator serve``, `parse_spec`)::

    create:status=503                      dashscope/status:rate_limit=2,probability=0.2
    vtrix/create:reset,when=after,times=1  download:latency=0.5
    create:task_failure=DataInspectionFailed,message=Input data may contain inappropriate content.
The package: `rule` (a rule, how it is checked and written, what it covers), `plan`
(the rules of one emulator and what they decide for a request), `spec` (the one-line form)
and `answers` (the error a ``status`` or ``rate_limit`` rule answers, before an adapter
words it). Rule names are checked against the adapters served (`FaultTargets`) when a rule
joins a plan.
"""

from videoedit_emulator.web.faults.answers import fault_error, fault_tag
from videoedit_emulator.web.faults.plan import TASK_FAILURE_MESSAGES, Decision, FaultPlan
from videoedit_emulator.web.faults.rule import (
    FaultError,
    FaultKind,
    FaultRule,
    FaultTargets,
    RouteInfo,
)
from videoedit_emulator.web.faults.spec import parse_spec

__all__ = [
    "TASK_FAILURE_MESSAGES",
    "Decision",
    "FaultError",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "FaultTargets",
    "RouteInfo",
    "fault_error",
    "fault_tag",
    "parse_spec",
]
