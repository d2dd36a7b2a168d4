"""``videoedit-emulator serve --fault SPEC``: fault rules from the command line."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from resilience_wire import auth, create_body

from videoedit_emulator.web.faults import FaultError, parse_spec


def serve(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return subprocess.Popen(
        [sys.executable, "-m", "videoedit_emulator.cli", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_serve_applies_the_fault_rules_it_is_given(http: httpx.Client) -> None:
    proc = serve("--fault", "create:status=503,times=2", "--fault", "vtrix/create:reset,skip=1")
    try:
        assert proc.stdout is not None
        root = proc.stdout.readline().split()[3]
        lines = [proc.stdout.readline().rstrip() for _ in range(7)]
        assert lines[5] == "  fault fault-1        */create:status=503,times=2"
        assert lines[6] == "  fault fault-2        vtrix/create:reset,skip=1"
        url = root + "/api/v1/services/aigc/video-generation/video-synthesis"
        codes = [
            http.post(url, json=create_body("dashscope-beijing"), headers=auth()).status_code
            for _ in range(3)
        ]
        assert codes == [503, 503, 200]
        rules = http.get(root + "/_emulator/faults").json()["faults"]
        assert [(r["id"], r["applied"]) for r in rules] == [("fault-1", 2), ("fault-2", 0)]
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_serve_refuses_a_bad_fault_spec_naming_what_is_wrong() -> None:
    proc = serve("--fault", "create:status=99")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "argument --fault: 'create:status=99': status must be an integer in [400, 599]" in err


@pytest.mark.parametrize(
    "spec",
    [
        "create:status=503",
        "dashscope/status:rate_limit=2,probability=0.2,seed=7",
        "oss/download:reset,when=after,times=1",
        "*/*:latency=0.25,skip=3",
        "apimart/create:malformed=502,when=after",
        "create:task_failure=DataInspectionFailed,message=Input data, it seems, is bad.",
        "create:status=400,code=Arrearage,retry_after=3",
    ],
)
def test_a_spec_reads_back_from_the_spec_the_rule_writes(spec: str) -> None:
    rule = parse_spec(spec)
    assert parse_spec(rule.to_spec()).to_json() == rule.to_json()


def test_a_spec_may_be_the_rules_json() -> None:
    rule = parse_spec('{"kind": "status", "status": 502, "route": "status", "times": 3}')
    assert rule.to_spec() == "*/status:status=502,times=3"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ("status=503", "spec"),
        ("create:status=503,times", "spec"),
        ("create:status=503,colour=red", "colour"),
        ("create:status=503,times=1,times=2", "times"),
        ("create:reset=3", "kind"),
        ("create:latency=soon", "seconds"),
        ("{not json", "spec"),
    ],
)
def test_a_bad_spec_names_what_is_wrong(spec: str, field: str) -> None:
    with pytest.raises(FaultError) as caught:
        parse_spec(spec)
    assert caught.value.field == field
