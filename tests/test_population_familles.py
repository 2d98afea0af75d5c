"""Single parents vs the other family types: the generator against published figures (issue 12).

Figures from ``data/population_familles.csv`` (each with its source); the generated ones are
checked against an independent DuckDB computation on the Parquet file.
"""

import json

import duckdb
import polars as pl
import pytest

from profilage.population import generate_population
from profilage.population.report import family_margins, family_report

N = 200_000


@pytest.fixture(scope="module")
def pop() -> pl.DataFrame:
    return generate_population(N, seed=0)


@pytest.fixture(scope="module")
def rep(pop) -> dict:
    return family_report(pop)


def test_every_published_figure_has_a_source_and_holds(rep):
    margins = family_margins()
    assert {r["id"] for r in rep["rows"]} == set(margins)
    for m in margins.values():
        assert m["source"] and m["min"] <= m["valeur"] <= m["max"], m["id"]
    bad = [(r["id"], r["generated"]) for r in rep["rows"] if not r["ok"]]
    assert bad == []
    assert rep["ok"] is True


def test_single_parents_figures(rep):
    got = {r["id"]: r["generated"] for r in rep["rows"]}
    # Values the generator gives on 200,000 households, seed 0 (published in brackets).
    assert got["emploi_monoparentales"] == pytest.approx(0.666, abs=0.005)        # 0.67
    assert got["bas_revenus_monoparentales"] == pytest.approx(0.562, abs=0.005)   # 0.55
    assert got["bas_revenus_couples_avec_enfants"] == pytest.approx(0.176, abs=0.005)  # 0.13
    assert got["rsa_taux_monoparentales"] == pytest.approx(0.262, abs=0.005)      # 0.281
    assert got["monoparentales_parmi_al"] == pytest.approx(0.209, abs=0.005)      # 0.22
    assert got["enfants_hlm_monoparentales"] == pytest.approx(0.363, abs=0.01)    # 0.37
    assert got["enfants_hlm_couples"] == pytest.approx(0.152, abs=0.01)           # 0.158
    assert got["rapport_ages_enfants_monoparentales"] == pytest.approx(2.10, abs=0.05)  # 2.08
    # Older children: single parents more often have a child aged 12 to 18 than couples.
    assert (rep["profile"]["monoparentale"]["enfants_12_18"]
            > rep["profile"]["couple_avec_enfants"]["enfants_12_18"] + 0.03)
    prof = rep["profile"]
    assert list(prof) == ["personne_seule", "couple_sans_enfant", "couple_avec_enfants",
                          "monoparentale"]
    # A single adult cannot exceed 12 months of activity: all under the 15-month threshold.
    assert prof["monoparentale"]["moins_15_mois"] == 1.0
    assert prof["personne_seule"]["moins_15_mois"] == 1.0
    assert prof["couple_avec_enfants"]["moins_15_mois"] < 0.4
    # Single parents are the poorest per consumption unit and the most often on RSA.
    med = {f: v["revenu_disponible_uc"] for f, v in prof.items()}
    assert med["monoparentale"] == min(med.values())
    assert prof["monoparentale"]["rsa"] == max(v["rsa"] for v in prof.values())


def test_figures_match_an_independent_duckdb_computation(pop, rep, tmp_path):
    path = tmp_path / "pop.parquet"
    pop.write_parquet(path)
    con = duckdb.connect()
    sql = f"""
    WITH h AS (
      SELECT famille_type, alloc_activite, rsa, aide_logement, statut_logement, conjoint,
        list_transform(enfants_dates_naissance,
          lambda d: (2024 * 12 + 3 - (year(d) * 12 + month(d))) // 12) AS ages,
        alloc_revenu_mensuel + coalesce(CASE WHEN conjoint THEN conj_revenu_mensuel END, 0)
          + coalesce(autres_revenus_mensuels, 0) + montant_rsa + montant_aah
          + montant_prime_activite + montant_aide_logement + montant_allocations_familiales
          AS ressources
      FROM read_parquet('{path}')
    ), u AS (
      -- CAF units in doubles (households at exactly 1,097 euros per unit fall on either
      -- side with exact decimals): 1 + 0.5 partner + 0.5 per child 14+ + 0.3 under 14
      -- + 0.2 single parent.
      SELECT *, 1.0::DOUBLE + CASE WHEN conjoint THEN 0.5::DOUBLE ELSE 0.0 END
          + 0.5::DOUBLE * len(list_filter(ages, lambda a: a >= 14))
          + 0.3::DOUBLE * len(list_filter(ages, lambda a: a < 14))
          + CASE WHEN NOT conjoint AND len(ages) > 0 THEN 0.2::DOUBLE ELSE 0.0 END AS uc,
        len(list_filter(ages, lambda a: a <= 18)) AS mineurs
      FROM h
    )
    SELECT
      avg(CASE WHEN alloc_activite IN ('salarie', 'independant') THEN 1 ELSE 0 END)
        FILTER (WHERE famille_type = 'monoparentale') AS emploi_monoparentales,
      avg(CASE WHEN ressources / uc < 1097 THEN 1 ELSE 0 END)
        FILTER (WHERE famille_type = 'monoparentale') AS bas_revenus_monoparentales,
      avg(CASE WHEN ressources / uc < 1097 THEN 1 ELSE 0 END)
        FILTER (WHERE famille_type = 'couple_avec_enfants') AS bas_revenus_couples_avec_enfants,
      avg(CASE WHEN rsa THEN 1 ELSE 0 END)
        FILTER (WHERE famille_type = 'monoparentale') AS rsa_taux_monoparentales,
      avg(CASE WHEN famille_type = 'monoparentale' THEN 1 ELSE 0 END)
        FILTER (WHERE aide_logement) AS monoparentales_parmi_al,
      sum(mineurs * (statut_logement = 'locataire_social')::INT)
        FILTER (WHERE famille_type = 'monoparentale')
        / sum(mineurs) FILTER (WHERE famille_type = 'monoparentale')
        AS enfants_hlm_monoparentales,
      avg(len(ages)) FILTER (WHERE famille_type = 'monoparentale') AS enfants_monoparentales
    FROM u
    """
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    want = dict(zip(names, cur.fetchone()))
    ratio = con.execute(f"""
      WITH k AS (
        SELECT famille_type = 'monoparentale' AS mono,
               (2024 * 12 + 3 - (year(d) * 12 + month(d))) // 12 AS age
        FROM (SELECT famille_type, unnest(enfants_dates_naissance) AS d
              FROM read_parquet('{path}'))
      )
      SELECT avg(mono::INT) FILTER (WHERE age BETWEEN 15 AND 17)
             / avg(mono::INT) FILTER (WHERE age < 3) FROM k""").fetchone()[0]
    want["rapport_ages_enfants_monoparentales"] = ratio
    got = {r["id"]: r["generated"] for r in rep["rows"]}
    for key, value in want.items():
        assert got[key] == pytest.approx(float(value), abs=1e-9), key


def test_cli_report_prints_the_family_table(cli, tmp_path):
    path = tmp_path / "pop.parquet"
    generate_population(20_000, seed=2).write_parquet(path)
    r = cli("population", "report", str(path))
    assert r.returncode == 0, r.stderr
    assert "Familles monoparentales et autres types de famille" in r.stdout
    assert "Profil généré par type de famille" in r.stdout
    assert "data/population_familles.csv" in r.stdout
    r = cli("population", "report", str(path), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    fam = out["familles"]
    assert out["ok"] is True and fam["ok"] is True
    row = next(x for x in fam["rows"] if x["id"] == "bas_revenus_monoparentales")
    assert row["published"] == 0.55 and "e-ssentiel n° 23" in row["source"]
    assert set(fam["profile"]) == {"personne_seule", "couple_sans_enfant",
                                   "couple_avec_enfants", "monoparentale"}
    # A population whose single parents all work is out of tolerance: exit 1, named.
    bad = tmp_path / "bad.parquet"
    generate_population(20_000, seed=2).with_columns(
        alloc_activite=pl.when(pl.col("famille_type") == "monoparentale")
        .then(pl.lit("salarie")).otherwise(pl.col("alloc_activite"))).write_parquet(bad)
    r = cli("population", "report", str(bad))
    assert r.returncode == 1
    assert "emploi_monoparentales" in r.stderr
