"""The business profile: the demo loads, broken files get errors naming file and field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from copilot.profile import ProfileError, load_profile, parse_profile
from copilot.taxonomy import Origin, TemplateKey
from tests.conftest import BOGOTA

DEMO = (
    Path(__file__).resolve().parent.parent / "copilot" / "data" / "demo_profile.toml"
).read_text(encoding="utf-8")


def test_demo_profile_loads_with_every_template(profile):
    assert profile.name == "Muebles Roble" and profile.currency == "COP"
    assert set(profile.templates) == set(TemplateKey)
    assert profile.entry_points["QR-TIENDA-01"] is Origin.QR


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (datetime(2026, 11, 20, 8, 59, tzinfo=BOGOTA), False),  # Friday, before opening
        (datetime(2026, 11, 20, 9, 0, tzinfo=BOGOTA), True),
        (datetime(2026, 11, 20, 17, 59, tzinfo=BOGOTA), True),
        (datetime(2026, 11, 20, 18, 0, tzinfo=BOGOTA), False),
        (datetime(2026, 11, 21, 11, 0, tzinfo=BOGOTA), True),  # Saturday morning
        (datetime(2026, 11, 22, 11, 0, tzinfo=BOGOTA), False),  # Sunday: closed
    ],
)
def test_business_hours_in_the_business_time_zone(profile, moment, open_):
    assert profile.is_open(moment) is open_
    # The same instant written in UTC gives the same answer.
    assert profile.is_open(moment.astimezone(UTC)) is open_


@pytest.mark.parametrize(
    ("edit", "names"),
    [
        (
            ('timezone = "America/Bogota"', 'timezone = "Mars/Olympus"'),
            ["timezone", "Mars/Olympus"],
        ),
        (('currency = "COP"', 'currency = "pesos"'), ["currency"]),
        (('mon = "09:00-18:00"', 'mon = "18:00-09:00"'), ["business_hours.mon", "ends before"]),
        (('mon = "09:00-18:00"', 'mon = "nine to six"'), ["business_hours.mon"]),
        (
            ("first_response_sla_minutes = 15", "first_response_sla_minutes = -5"),
            ["first_response_sla"],
        ),
        (('"QR-FERIA" = "qr"', '"QR-FERIA" = "tiktok"'), ["entry_points"]),
        (("{question}", "{secret_prompt}"), ["templates", "secret_prompt"]),
        (("[templates.welcome]", "[templates.welcome_old]"), ["templates"]),
    ],
)
def test_broken_profile_names_the_field(tmp_path, edit, names):
    old, new = edit
    assert old in DEMO
    path = tmp_path / "broken.toml"
    path.write_text(DEMO.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    for name in names:
        assert name in message


def test_missing_required_fields_are_all_listed():
    with pytest.raises(ProfileError) as caught:
        parse_profile('name = "x"\ncountry = "co"', "bad.toml")
    message = str(caught.value)
    for field in ("country", "currency", "timezone", "business_hours", "templates"):
        assert field in message


def test_unreadable_and_non_toml_files(tmp_path):
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = ", encoding="utf-8")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(bad)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ProfileError, match="UTF-8"):
        load_profile(binary)
