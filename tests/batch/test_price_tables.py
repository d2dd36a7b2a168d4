"""Price tables the user supplies: money from billed seconds, and a clear error for a bad table
(the file, the key path, the rule), never an invented price."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from videoedit.billing import Estimate
from videoedit.prices import PriceTableError, load_prices

TOML = """\
currency = "USD"

[prices.dashscope-singapore."wan2.7-videoedit"]
720P = "0.10"
1080P = 0.15

[prices.vtrix]
currency = "CNY"
"wan2.7-videoedit" = { 720P = 0.7 }
"""

WAN27_720 = Estimate(6.5, True, model="wan2.7-videoedit", resolution="720P")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_toml_table_prices_an_estimate_exactly_in_its_currency(tmp_path: Path) -> None:
    table = load_prices(write(tmp_path, "prices.toml", TOML))

    cost = table.cost("dashscope-singapore", WAN27_720)

    assert cost.amount == Decimal("0.650")
    assert cost.currency == "USD"
    assert str(cost) == "0.650 USD"


def test_a_number_in_toml_is_read_through_its_text(tmp_path: Path) -> None:
    table = load_prices(write(tmp_path, "prices.toml", TOML))

    at_1080 = Estimate(3, True, model="wan2.7-videoedit", resolution="1080P")

    assert table.cost("dashscope-singapore", at_1080).amount == Decimal("0.45")


def test_a_provider_may_carry_its_own_currency(tmp_path: Path) -> None:
    table = load_prices(write(tmp_path, "prices.toml", TOML))

    cost = table.cost("vtrix", WAN27_720)

    assert (cost.amount, cost.currency) == (Decimal("4.55"), "CNY")


def test_a_json_table_reads_like_the_toml_one(tmp_path: Path) -> None:
    data = {
        "currency": "EUR",
        "prices": {"apimart": {"wan2.7-videoedit": {"720p": "0.2"}}},
    }
    table = load_prices(write(tmp_path, "prices.json", json.dumps(data)))

    cost = table.cost("apimart", WAN27_720)

    assert (cost.amount, cost.currency) == (Decimal("1.30"), "EUR")


def test_a_price_missing_for_an_edit_names_the_key_to_add(tmp_path: Path) -> None:
    table = load_prices(write(tmp_path, "prices.toml", TOML))

    with pytest.raises(PriceTableError) as caught:
        table.cost("dashscope-beijing", WAN27_720)

    assert caught.value.field == "prices.dashscope-beijing.wan2.7-videoedit.720P"
    assert "prices.toml" in str(caught.value)
    assert "it has no dashscope-beijing" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "path", "rule"),
    [
        ('currency = "USD"\n', "prices", "must be a table of providers"),
        (
            'currency = "dollars"\n[prices.vtrix."wan2.7-videoedit"]\n720P = 1\n',
            "currency",
            "three capitals",
        ),
        ('[prices.vtrix."wan2.7-videoedit"]\n720P = 1\n', "prices.vtrix", "has no currency"),
        (
            'currency = "USD"\n[prices.vtrix."wan2.7-videoedit"]\n720P = -1\n',
            "prices.vtrix.wan2.7-videoedit.720P",
            "a number >= 0",
        ),
        (
            'currency = "USD"\n[prices.vtrix."wan2.7-videoedit"]\n720P = "cheap"\n',
            "prices.vtrix.wan2.7-videoedit.720P",
            "a number >= 0",
        ),
        (
            'currency = "USD"\n[prices.vtrix."wan2.7-videoedit"]\n720P = true\n',
            "prices.vtrix.wan2.7-videoedit.720P",
            "a number >= 0",
        ),
        (
            'currency = "USD"\n[prices.vtrix."wan2.7-videoedit"]\nHD = 1\n',
            "prices.vtrix.wan2.7-videoedit.HD",
            "720P or 1080P",
        ),
        (
            'currency = "USD"\n[prices.vtrix.wan2.7-videoedit]\n720P = 1\n',
            "prices.vtrix.wan2.7-videoedit",
            "quote a model id",
        ),
        ('currency = "USD"\nprice = 1\n', "price", "is not a key of a price table"),
    ],
)
def test_a_bad_toml_table_is_refused_naming_the_key_path_and_the_rule(
    tmp_path: Path, text: str, path: str, rule: str
) -> None:
    with pytest.raises(PriceTableError) as caught:
        load_prices(write(tmp_path, "prices.toml", text))

    assert caught.value.field is not None
    assert caught.value.field.startswith(path)
    assert rule in str(caught.value)
    assert str(caught.value).startswith(f"{tmp_path / 'prices.toml'}: ")


def test_a_table_that_is_not_toml_is_refused_with_the_file(tmp_path: Path) -> None:
    with pytest.raises(PriceTableError, match=r"prices\.toml: not TOML"):
        load_prices(write(tmp_path, "prices.toml", "currency = \n"))


def test_a_table_that_is_not_json_is_refused_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(PriceTableError, match=r"prices\.json: line 2: not JSON"):
        load_prices(write(tmp_path, "prices.json", '{"currency": "USD",\n oops}'))


def test_a_table_of_another_format_is_refused_by_its_name(tmp_path: Path) -> None:
    with pytest.raises(PriceTableError) as caught:
        load_prices(write(tmp_path, "prices.yaml", "currency: USD\n"))

    assert caught.value.field == "--prices"
    assert "must be a .toml or .json file" in str(caught.value)


def test_a_missing_table_file_is_said_as_such(tmp_path: Path) -> None:
    with pytest.raises(PriceTableError, match="cannot be read"):
        load_prices(tmp_path / "nowhere.toml")


def test_a_provider_billed_on_output_seconds_alone_is_said_in_its_table(tmp_path: Path) -> None:
    text = (
        'currency = "USD"\n[prices.apimart]\nbills = "output"\n"wan2.7-videoedit" = { 720P = 1 }\n'
    )

    table = load_prices(write(tmp_path, "prices.toml", text))

    assert table.bills("apimart") == "output"
    assert table.bills("dashscope-singapore") == "model"


def test_bills_takes_only_the_rules_it_knows(tmp_path: Path) -> None:
    text = (
        'currency = "USD"\n[prices.apimart]\nbills = "input"\n"wan2.7-videoedit" = { 720P = 1 }\n'
    )

    with pytest.raises(PriceTableError) as caught:
        load_prices(write(tmp_path, "prices.toml", text))

    assert caught.value.field == "prices.apimart.bills"
    assert "must be one of model, output" in str(caught.value)


def test_the_table_docs_batches_md_prints_reads_as_it_says(tmp_path: Path) -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "batches.md"
    (block,) = re.findall(r"```toml\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)

    table = load_prices(write(tmp_path, "prices.toml", block))

    assert table.unit_price("dashscope-singapore", "wan2.7-videoedit", "720P") == (
        Decimal("0.10"),
        "USD",
    )
    assert table.unit_price("vtrix", "wan2.7-videoedit", "1080P") == (Decimal("1.05"), "CNY")
    assert table.bills("apimart") == "output"
