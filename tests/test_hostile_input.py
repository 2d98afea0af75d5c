"""Hostile or extreme input outside the web layer (issue 16, points 5-12): each test carries
the input that broke something, and checks the clear error or the right answer."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("month", ["2100-01", "2100-12", "1990-01"])
def test_generator_accepts_every_month_of_the_declared_range(month):
    """Point 6: 2100-01..2100-12 are inside 1990-01..2100-12 but indexed past the month table."""
    from profilage.population import generate_population

    pop = generate_population(500, 3, reference_month=month)
    assert pop.height == 500
    ref = pop["reference_month"][0]
    assert f"{ref:%Y-%m}" == month
    assert pop["date_inscription_caf"].drop_nulls().max() <= ref.replace(day=28)


def test_generate_cli_reference_month_2100_12(cli, tmp_path):
    out = tmp_path / "p.parquet"
    r = cli("population", "generate", "--households", "200", "--reference-month", "2100-12",
            "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert out.is_file()
