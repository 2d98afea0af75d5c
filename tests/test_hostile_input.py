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


@pytest.mark.parametrize("dossier,field,needle", [
    ({"reference_month": "0001-01", "enfants": [{"age": 30}]}, "reference_month",
     "0001-01 is outside 1990-01..2100-12"),
    ({"reference_month": "0030-06", "enfants": [{"age": 3}]}, "reference_month", "outside"),
    ({"reference_month": "9999-12"}, "reference_month", "outside"),
    ({"reference_month": "2023-12", "historique": {"separation": "9999-12"}},
     "historique.separation", "9999-12 is after the reference month 2023-12"),
    ({"reference_month": "2023-12", "historique": {"dernier_contact": "2024-01-15"}},
     "historique.dernier_contact", "after the reference month"),
    ({"reference_month": "2023-12", "enfants": [{"age": 2}, {"date_naissance": "2024-02"}]},
     "enfants[1].date_naissance", "after the reference month"),
    ({"reference_month": "2023-12", "conjoint": {"date_naissance": "2030-01"}},
     "conjoint.date_naissance", "after the reference month"),
])
def test_dossier_dates_checked_against_the_reference_month(dossier, field, needle, cli, tmp_path):
    """Points 6-7: years 0001-0030 with a child by age raised inside the engine (500); an event
    after the reference month counted as recent."""
    import json

    from profilage.dossier import parse_dossier
    from profilage.errors import DossierError

    with pytest.raises(DossierError) as e:
        parse_dossier(dossier)
    assert e.value.field == field and needle in e.value.message
    path = tmp_path / "d.json"
    path.write_text(json.dumps(dossier))
    r = cli("score", str(path))
    assert r.returncode == 2 and field in r.stderr and needle in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_event_in_the_reference_month_is_accepted():
    from profilage.dossier import parse_dossier

    d = parse_dossier({"reference_month": "2023-12", "historique": {"separation": "2023-12-31",
                                                                   "changement_adresse": "jamais"}})
    assert d.historique.separation.year == 2023


def test_store_and_retention_dates_use_the_same_range(cli, tmp_path):
    """Point 7: store months and retention dates 0001 and 9999 were accepted."""
    store, pop = tmp_path / "s.duckdb", tmp_path / "p.parquet"
    assert cli("population", "generate", "--households", "100", "--out", str(pop)).returncode == 0
    assert cli("store", "add-population", str(pop), "--store", str(store)).returncode == 0
    for args, field in ((["run", "--month", "0001-01"], "--month"),
                        (["run", "--month", "9999-12"], "--month"),
                        (["retention", "end", "1", "9999-12-31"], "DATE"),
                        (["retention", "apply", "--as-of", "0001-01-01"], "--as-of")):
        r = cli(*args, "--store", str(store))
        assert r.returncode == 2, (args, r.stderr)
        assert field in r.stderr and "outside 1990-01..2100-12" in r.stderr, (args, r.stderr)


def test_audit_by_a_column_twice_is_a_clear_error(cli, tmp_path):
    """Point 6: ``by: ["rsa", "rsa"]`` was a 500 (a duplicate column in the intersection)."""
    from profilage.population import generate_population

    pop = tmp_path / "p.parquet"
    generate_population(500, seed=1).write_parquet(pop)
    r = cli("audit", "--population", str(pop), "--by", "rsa,rsa", "--bootstrap", "0")
    assert r.returncode == 2 and "--by" in r.stderr and "'rsa' given twice" in r.stderr


def test_empty_population_is_a_clear_error(cli, tmp_path):
    """Points 6 and 12: a CSV with a header and no rows (argmax of an empty sequence, exit 1)."""
    from fastapi.testclient import TestClient

    from profilage.web import create_app

    csv = tmp_path / "vide.csv"
    csv.write_text("household_id,alloc_age\n")
    for args in (["audit", "--population", str(csv)],
                 ["report", "--population", str(csv), "--out", str(tmp_path / "r.html")]):
        r = cli(*args)
        assert r.returncode == 2, r.stderr
        assert "--population: the population has no household" in r.stderr
    c = TestClient(create_app(allow_paths=tmp_path), base_url="http://127.0.0.1")
    r = c.post("/api/audit", json={"population": {"path": "vide.csv"}})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "population.path"
    assert "no household" in r.json()["detail"][0]["msg"]


def test_nan_inf_and_negative_inputs_are_unknown_or_refused(cli, tmp_path):
    """Point 7: NaN matched the top bin, negative ages and -inf the lowest one."""
    import math

    import polars as pl

    from profilage.audit import prepare
    from profilage.population import generate_population

    pop = generate_population(6, 1).with_columns(
        alloc_revenu_mensuel=pl.Series([math.nan, math.inf, -math.inf, -5.0, 1000.0, 1000.0]),
        alloc_age=pl.Series([30, 30, 40, 50, -3, 60], dtype=pl.Int32),
        alloc_date_naissance=pl.lit(None, dtype=pl.Date))
    scored = prepare(pop, "cnaf-2014")
    # rows 0-4 have an unknown input: an interval, never a point as if the value were real
    assert (scored["score_low"] < scored["score_high"]).to_list() == [True] * 5 + [False]
    # a table of model inputs: refused, naming the column
    feats = tmp_path / "f.parquet"
    src = tmp_path / "p.parquet"
    generate_population(50, 2).write_parquet(src)
    assert cli("features", "export", str(src), "--out", str(feats)).returncode == 0
    table = pl.read_parquet(feats)
    for col, value, needle in (("taux_effort", math.nan, "NaN or infinite"),
                               ("revenu_par_uc", -math.inf, "NaN or infinite"),
                               ("age_allocataire", -3, "below the minimum 0")):
        bad = tmp_path / f"bad_{col}.parquet"
        table.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(value)
                           .otherwise(pl.col(col)).cast(table.schema[col]).alias(col)
                           ).write_parquet(bad)
        r = cli("score", str(bad), "--out", str(tmp_path / "o.parquet"))
        assert r.returncode == 2, (col, r.stderr)
        assert col in r.stderr and needle in r.stderr, (col, r.stderr)


def test_file_names_are_taken_literally(cli, tmp_path):
    """Point 8: 'pop[1].parquet' scored pop1.parquet; 'a*.parquet' imported two files and
    recorded the sha256 of one."""
    import hashlib

    import duckdb
    import polars as pl

    from profilage.population import generate_population

    literal = tmp_path / "pop[1].parquet"
    generate_population(30, seed=1).write_parquet(literal)
    generate_population(70, seed=2).write_parquet(tmp_path / "pop1.parquet")
    out = tmp_path / "o.parquet"
    r = cli("score", str(literal), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert pl.read_parquet(out).height == 30
    star = tmp_path / "a*.parquet"
    generate_population(40, seed=3).write_parquet(star)
    for i in (1, 2):
        generate_population(50, seed=i).write_parquet(tmp_path / f"a{i}.parquet")
    store = tmp_path / "s.duckdb"
    r = cli("population", "import", str(star), "--store", str(store))
    assert r.returncode == 0, r.stderr
    con = duckdb.connect(str(store), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM households").fetchone()[0] == 40
        assert con.execute("SELECT hash FROM populations").fetchone()[0] == \
            hashlib.sha256(star.read_bytes()).hexdigest()
    finally:
        con.close()
    r = cli("audit", "--population", str(tmp_path / "pop[2].parquet"), "--bootstrap", "0")
    assert r.returncode == 2 and "file not found" in r.stderr


def _model_text(extra_criteria: str = "", prefix: str = "") -> str:
    from profilage.models import load_model

    src = open(load_model("cnaf-2014").path, encoding="utf-8").read()
    lines = src.split("\n")
    i = next(k for k, line in enumerate(lines) if line.startswith("["))
    return "\n".join(lines[:i] + [prefix] + lines[i:]) + "\n" + extra_criteria


def test_experiment_and_model_size_limits(cli, tmp_path):
    """Point 9: 5 inputs x 60 values (500 bytes, 777 M combinations) was killed at 24 GB; a
    model of 4,000 bins took 47 s per dossier."""
    vary = "\n".join(f"{f} = [{', '.join(str(v) for v in range(60))}]" for f in
                     ("age_allocataire", "age_conjoint", "nb_enfants_12_18",
                      "nb_enfants_moins_12", "mois_activite_foyer"))
    exp = tmp_path / "grille.toml"
    exp.write_text(f'kind = "archetype"\npersona = "abel"\n[vary]\n{vary}\n')
    assert len(exp.read_bytes()) < 1500  # a small file
    r = cli("experiment", str(exp))
    assert r.returncode == 2, r.stderr
    assert "vary" in r.stderr and "777600000 combinations, over the limit of 100000" in r.stderr
    bins = "\n".join(f"[[criteria.modalities]]\nid = \"b{i}\"\nmin = {i}\nmax = {i + 1}\n"
                     f"coefficient = 0.0\nstatus = \"unknown\"\nsource = \"x\"" for i in range(4000))
    model = tmp_path / "gros.toml"
    model.write_text(_model_text(f'[[criteria]]\nid = "gros"\nlabel_fr = "g"\nlabel_en = "g"\n'
                                 f'feature = "revenu_par_uc"\n{bins}\n'))
    r = cli("score", "nathalie", "--model", str(model))
    assert r.returncode == 2 and "4000 modalities, over the limit of 100" in r.stderr


def test_model_files_that_raised_internal_errors(cli, tmp_path):
    """Point 12: a [features] block overriding a built-in, "false" as a boolean, a numeric
    predictor whose range makes x ** exponent complex, a deeply nested TOML."""
    cases = {
        "override.toml": (_model_text(prefix='[features.age_allocataire]\nkind = "category"\n'
                                      'categories = ["a"]\n'),
                          "feature 'age_allocataire' is not numeric"),
        "strbool.toml": (_model_text().replace("value = false", 'value = "false"'),
                         "is boolean: value must be true or false"),
        "complexe.toml": (_model_text('[[criteria]]\nid = "p"\nlabel_fr = "p"\nlabel_en = "p"\n'
                                      'feature = "revenu_par_uc"\nkind = "numeric"\n'
                                      'exponent = 0.5\nrange = [-10, 10]\ncoefficient = 0.1\n'
                                      'status = "unknown"\nsource = "x"\n'),
                          "range end -10 to the power 0.5 is not a finite real number"),
        "profond.toml": ('id = "x"\nx = ' + "[" * 50_000 + "]" * 50_000 + "\n",
                         "nested too deeply"),
    }
    for name, (text, needle) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        r = cli("score", "nathalie", "--model", str(path))
        assert r.returncode == 2, (name, r.stderr)
        assert needle in r.stderr and "interne" not in r.stderr, (name, r.stderr)


def test_dossier_files_that_raised_internal_errors(cli, tmp_path):
    """Point 12: deeply nested JSON, an integer of 5,000 digits."""
    for name, text, needle in (
            ("profond.json", '{"reference_month": "2023-12", "nom": ' + "[" * 100_000
             + "]" * 100_000 + "}", "nested too deeply"),
            ("entier.json", '{"reference_month": "2023-12", "allocataire": {"age": '
             + "9" * 5000 + "}}", "Exceeds the limit (4300 digits)")):
        path = tmp_path / name
        path.write_text(text)
        for cmd in ("score", "explain"):
            r = cli(cmd, str(path))
            assert r.returncode == 2 and needle in r.stderr, (name, cmd, r.stderr)
    exp = tmp_path / "profond.toml"
    exp.write_text('kind = "archetype"\npersona = "abel"\nx = ' + "[" * 50_000 + "]" * 50_000)
    r = cli("experiment", str(exp))
    assert r.returncode == 2 and "nested too deeply" in r.stderr


@pytest.mark.parametrize("nom", ["[/foo]", "[link=https://evil.example]clic[/link]",
                                 "Abel \x1b]8;;https://evil.example\x07lien\x1b]8;;\x07 \x1b[2J",
                                 "[bold red]faux[/]"])
def test_terminal_output_escapes_user_text(cli, tmp_path, nom):
    """Point 10: a dossier named "[/foo]" crashed score/explain (MarkupError); [link=...] was
    interpreted; ESC/OSC sequences reached the terminal."""
    import json

    from profilage.personas import personas_dir

    d = json.loads((personas_dir() / "abel.json").read_text("utf-8"))
    d["nom"] = nom
    path = tmp_path / "d.json"
    path.write_text(json.dumps(d))
    for cmd in ("score", "explain"):
        r = cli(cmd, str(path))
        assert r.returncode == 0, (cmd, r.stderr)
        assert "\x1b" not in r.stdout and "\x07" not in r.stdout
        if nom.startswith("["):
            assert nom in r.stdout, (cmd, r.stdout[:500])  # shown literally, not interpreted
    r = cli("dossier", "check", str(path))
    assert r.returncode == 0 and "\x1b" not in r.stdout


def test_error_messages_strip_control_characters(cli, tmp_path):
    bad = tmp_path / "x\x1b[31mrouge.json"
    r = cli("score", str(bad))
    assert r.returncode == 2 and "\x1b" not in r.stderr and "rouge.json" in r.stderr


def test_retention_removes_every_personal_row_and_the_bytes(cli, tmp_path):
    """Point 11: retention deleted the scores only; the household's row in `households` (birth
    date, income, AAH, nationality) and in `relationships` stayed for ever. The store and every
    output were created with mode 0644."""
    import json
    import stat

    import duckdb
    import polars as pl

    from profilage.population import generate_population

    pop = tmp_path / "p.parquet"
    marker = 987_654.25  # an income no other household has: its bytes must leave the file
    df = generate_population(400, seed=5)
    hid = int(df["household_id"][0])
    df.with_columns(alloc_revenu_mensuel=pl.when(pl.col("household_id") == hid).then(marker)
                    .otherwise(pl.col("alloc_revenu_mensuel"))).write_parquet(pop)
    s = tmp_path / "s.duckdb"
    assert cli("population", "import", str(pop), "--store", str(s)).returncode == 0
    assert cli("run", "--month", "2024-03", "--store", str(s)).returncode == 0
    assert cli("retention", "end", str(hid), "2010-01-31", "--store", str(s)).returncode == 0
    import struct

    packed = struct.pack("<d", marker)
    assert packed in s.read_bytes()  # the income is in the file, as a plain double
    r = cli("retention", "apply", "--as-of", "2024-06-01", "--store", str(s), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["households"] == 1
    con = duckdb.connect(str(s), read_only=True)
    try:
        for table in ("scores", "households", "relationships"):
            n = con.execute(f"SELECT count(*) FROM {table} WHERE household_id = ?", [hid]).fetchone()
            assert n[0] == 0, table
        assert con.execute("SELECT count(*) FROM households").fetchone()[0] == 399
    finally:
        con.close()
    assert packed not in s.read_bytes()  # compacted: the deleted row's bytes are gone
    # the store and every output: owner only
    out = tmp_path / "o.parquet"
    assert cli("score", str(pop), "--out", str(out)).returncode == 0
    assert cli("audit", "--population", str(pop), "--bootstrap", "0", "--out",
               str(tmp_path / "audit")).returncode == 0
    for f in [s, out, pop.with_name("gen.parquet"), *(tmp_path / "audit").iterdir()]:
        if f.name == "gen.parquet":
            assert cli("population", "generate", "--households", "100", "--out",
                       str(f)).returncode == 0
        assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, (f, oct(f.stat().st_mode))


LAUGHS = ('<!DOCTYPE PMML [<!ENTITY a "aaaaaaaaaa">' + "".join(
    f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8))
    + ']>')


@pytest.mark.parametrize("name,blob", [
    ("utf16", ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE PMML [<!ENTITY x SYSTEM '
               '"file:///etc/passwd">]><PMML version="4.4"><Header description="&x;"/></PMML>'
               ).encode("utf-16")),
    ("utf16be-no-bom", ('<?xml version="1.0" encoding="UTF-16BE"?><!DOCTYPE PMML>'
                        '<PMML version="4.4"/>').encode("utf-16-be")),
    ("after-comment", ('<?xml version="1.0"?><!--' + "x" * 5000 + '-->'
                       '<!DOCTYPE PMML [<!ENTITY e "b">]><PMML version="4.4"/>').encode()),
    ("billion-laughs", ('<?xml version="1.0"?>' + LAUGHS + '<PMML version="4.4">'
                        '<Header description="&i;"/></PMML>').encode()),
    ("lowercase-spaced", b'<?xml version="1.0"?>\n<!DOCTYPE  PMML SYSTEM "http://x.example/d">'
                         b'<PMML version="4.4"/>'),
])
def test_pmml_doctype_refused_by_the_parser_whatever_the_encoding(cli, tmp_path, name, blob):
    """Point 13: the text filter missed a DOCTYPE in UTF-16 or after a 4 kB comment."""
    src = tmp_path / f"{name}.pmml"
    src.write_bytes(blob)
    out = tmp_path / "out.toml"
    r = cli("models", "import", str(src), "--format", "pmml", "--id", "x", "--source", "t",
            "--out", str(out))
    assert r.returncode == 2, (name, r.stderr)
    assert "DOCTYPE/ENTITY declarations are not accepted" in r.stderr, (name, r.stderr)
    assert not out.exists() and "root:" not in r.stderr


def test_outputs_and_inputs_that_raised_internal_errors(cli, tmp_path):
    """Point 12: --out a directory or in a missing folder, a non-UTF-8 --map file, export-site
    to an impossible path, list columns where values are expected."""
    import polars as pl

    from profilage.population import generate_population

    pop = tmp_path / "p.parquet"
    generate_population(100, seed=4).write_parquet(pop)
    (tmp_path / "dir.parquet").mkdir()
    (tmp_path / "dir.html").mkdir()
    cases = [
        (["score", str(pop), "--out", str(tmp_path / "dir.parquet")], "--out: is a directory"),
        (["score", str(pop), "--out", str(tmp_path / "nope" / "o.parquet")],
         "--out: folder"),
        (["features", "export", str(pop), "--out", str(tmp_path / "nope" / "f.parquet")],
         "--out: folder"),
        (["report", "--population", str(pop), "--out", str(tmp_path / "dir.html")],
         "--out: is a directory"),
        (["export-site", "/proc/profilage-site"], "DIR: cannot write the site"),
    ]
    bad_map = tmp_path / "map.csv"
    bad_map.write_bytes(b"field,feature\n\xff\xfe,age_allocataire\n")
    pmml = tmp_path / "m.pmml"
    pmml.write_text('<PMML version="4.4"><Header/><DataDictionary/></PMML>')
    cases.append((["models", "import", str(pmml), "--format", "pmml", "--id", "x", "--source",
                   "t", "--map", str(bad_map), "--out", str(tmp_path / "m.toml")],
                  "--map: " + str(bad_map)))
    listed = tmp_path / "listes.parquet"
    pl.read_parquet(pop).with_columns(alloc_age=pl.concat_list("alloc_age", "alloc_age")
                                      ).write_parquet(listed)
    cases += [(["audit", "--population", str(listed), "--bootstrap", "0"],
               "alloc_age: column has type List(Int32), expected Int32"),
              (["score", str(listed), "--out", str(tmp_path / "o.parquet")],
               "alloc_age: column has type List(Int32)")]
    for args, needle in cases:
        r = cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert needle in r.stderr and "interne" not in r.stderr, (args, r.stderr)
