#!/usr/bin/env python3
"""The same STOMP audit as stomp-audit (STOMP01-STOMP05B per practice at one
index date), written as an analyst would in DuckDB SQL or a Python polars
lazy query, on the same Parquet extract and the same bundled codelists.

    bench_peers.py duckdb|polars EXTRACT INDEX_DATE OUT.csv THREADS CODES.csv

Writes one row per practice: practice_code, then numerator and denominator
of STOMP01, 02, 03, 03B, 04, 04B, 05 and 05B, so scripts/bench.sh can
check that all three engines agree exactly.

The extract is coded as real extracts are, in dm+d only. An analyst needs
a dm+d-to-class table for that; CODES.csv is the engine's own
(`stomp-audit codes`: every dm+d code of the spec's drug concepts, with its
BNF code, form and concepts), read as an analyst would read an OpenCodelists
download. Everything else follows docs/indicators.md: registered at T
(latest start wins), alive at T; a code recorded on or before T; an issue
in the six calendar months to T; STOMP05's explanation of an antidepressant
used for pain or sleep by a neuropathic pain or insomnia code.
"""
import csv
import os
import sys

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "spec", "codelists")
EVENT_LISTS = {
    "ld": "nhsd-primary-care-domain-refsets-ld_cod.csv",
    "autism": "nhsd-primary-care-domain-refsets-autism_cod.csv",
    "smi": "nhsd-primary-care-domain-refsets-mh_cod.csv",
    "palliative": "nhsd-primary-care-domain-refsets-palcare_cod.csv",
    "depression": "nhsd-primary-care-domain-refsets-depr_cod.csv",
    "anxiety": "opensafely-anxiety-disorders.csv",
    "pain_or_sleep": "user-RachelS99-dfm-disorders-insomnia.csv",
}
# GM SDE code sets: code<TAB>description, no header.
EVENT_TSV = {"pain_or_sleep": "uom-gm-sde-neuropathic-pain.snomed.txt"}
COLUMNS = ["practice_code"] + [
    f"{i}_{k}" for i in ["STOMP01", "STOMP02", "STOMP03", "STOMP03B", "STOMP04", "STOMP04B", "STOMP05", "STOMP05B"]
    for k in ["num", "den"]
]


def codelists(codes_csv):
    events = []
    for concept, f in EVENT_LISTS.items():
        with open(os.path.join(SPEC, f), newline="") as fh:
            events += [(r["code"].strip(), concept) for r in csv.DictReader(fh) if r["code"].strip()]
    for concept, f in EVENT_TSV.items():
        with open(os.path.join(SPEC, f), encoding="utf-8", errors="replace") as fh:
            events += [(l.split("\t")[0].strip(), concept) for l in fh if "\t" in l]
    drugs = []
    with open(codes_csv, newline="") as fh:
        for r in csv.DictReader(fh):
            c = r["concepts"].split()
            ad = "antidepressant" in c
            drugs.append((r["dmd_id"], "antipsychotic" in c, ad,
                          ad and "pain_or_sleep_antidepressant" not in c))
    return sorted(set(events)), drugs


def fmt(extract):
    """The extract's format: csv when its tables are CSV files, else parquet."""
    return "csv" if os.path.exists(os.path.join(extract, "patients.csv")) else "parquet"


def months_back(t, n):
    import calendar
    import datetime
    y, m = t.year, t.month - n
    while m <= 0:
        y, m = y - 1, m + 12
    return datetime.date(y, m, min(t.day, calendar.monthrange(y, m)[1]))


def run_duckdb(extract, t, out, threads, codes_csv):
    import duckdb
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    events, drugs = codelists(codes_csv)
    # Loaded from CSV files: row-by-row inserts of 60,000 codes take seconds.
    for name, header, rows in [
        ("event_codes", ["code", "concept"], events),
        ("drug_codes", ["dmd_id", "ap", "ad", "ad_other"], drugs),
    ]:
        path = f"{out}.{name}.csv"
        with open(path, "w", newline="") as fh:
            csv.writer(fh).writerows([header] + list(rows))
        types = {c: "VARCHAR" for c in header[:2]} | {c: "BOOLEAN" for c in header[1:] if name == "drug_codes"}
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv('{path}', header = true, columns = {types})")
        os.remove(path)
    def p(name):
        path = os.path.join(extract, f"{name}.{fmt(extract)}")
        if fmt(extract) == "csv":
            return f"read_csv('{path}', header = true, all_varchar = true)"
        return f"read_parquet('{path}')"
    lo = months_back(t, 6)
    sql = f"""
    WITH reg AS (
      SELECT patient_id, practice_code,
             row_number() OVER (PARTITION BY patient_id ORDER BY CAST(start_date AS DATE) DESC,
                                COALESCE(CAST(end_date AS DATE), DATE '9999-12-31') DESC, practice_code) AS rn
      FROM {p("registrations")}
      WHERE CAST(start_date AS DATE) <= DATE '{t}' AND (end_date IS NULL OR CAST(end_date AS DATE) > DATE '{t}')
    ), pop AS (
      SELECT r.patient_id, r.practice_code FROM reg r JOIN {p("patients")} pt USING (patient_id)
      WHERE r.rn = 1 AND (pt.date_of_death IS NULL OR CAST(pt.date_of_death AS DATE) > DATE '{t}')
    ), ev AS (
      SELECT e.patient_id,
             bool_or(c.concept = 'ld') AS ld, bool_or(c.concept = 'autism') AS autism,
             bool_or(c.concept = 'smi') AS smi, bool_or(c.concept = 'palliative') AS pal,
             bool_or(c.concept IN ('depression', 'anxiety')) AS dep,
             bool_or(c.concept = 'pain_or_sleep') AS pain
      FROM {p("clinical_events")} e JOIN event_codes c ON e.snomedct_code = c.code
      WHERE CAST(e.date AS DATE) <= DATE '{t}'
      GROUP BY e.patient_id
    ), med AS (
      SELECT m.patient_id, bool_or(d.ap) AS ap, bool_or(d.ad) AS ad, bool_or(d.ad_other) AS ad_other
      FROM {p("medications")} m JOIN drug_codes d ON m.dmd_code = d.dmd_id
      WHERE CAST(m.date AS DATE) > DATE '{lo}' AND CAST(m.date AS DATE) <= DATE '{t}'
      GROUP BY m.patient_id
    ), f AS (
      SELECT pop.practice_code,
             COALESCE(ld, false) ld, COALESCE(autism, false) au, COALESCE(smi, false) smi,
             COALESCE(pal, false) pal, COALESCE(dep, false) dep, COALESCE(ap, false) ap, COALESCE(ad, false) ad,
             -- unexplained: no depression or anxiety code, and not only pain/sleep drugs with a pain/sleep code
             NOT COALESCE(dep, false) AND NOT (COALESCE(pain, false) AND NOT COALESCE(ad_other, false)) AS unexp
      FROM pop LEFT JOIN ev USING (patient_id) LEFT JOIN med USING (patient_id)
    )
    SELECT practice_code,
      count(*) FILTER (WHERE ld), count(*),
      count(*) FILTER (WHERE ld AND ap), count(*) FILTER (WHERE ld),
      count(*) FILTER (WHERE ld AND ap AND NOT smi AND NOT pal), count(*) FILTER (WHERE ld),
      count(*) FILTER (WHERE ld AND ap AND NOT smi AND NOT pal), count(*) FILTER (WHERE ld AND ap),
      count(*) FILTER (WHERE au AND ld AND ap), count(*) FILTER (WHERE au AND ld),
      count(*) FILTER (WHERE au AND NOT ld AND ap), count(*) FILTER (WHERE au AND NOT ld),
      count(*) FILTER (WHERE ld AND ad AND unexp), count(*) FILTER (WHERE ld AND ad),
      count(*) FILTER (WHERE ld AND ad AND unexp), count(*) FILTER (WHERE ld)
    FROM f GROUP BY practice_code ORDER BY practice_code
    """
    rows = con.execute(sql).fetchall()
    write(out, rows)


def run_polars(extract, t, out, threads, codes_csv):
    os.environ["POLARS_MAX_THREADS"] = str(threads)
    import polars as pl
    events, drugs = codelists(codes_csv)
    ev_codes = pl.DataFrame(events, schema=["code", "concept"], orient="row")
    drug_codes = pl.DataFrame(drugs, schema=["dmd_id", "ap", "ad", "ad_other"], orient="row")
    def p(name):
        path = os.path.join(extract, f"{name}.{fmt(extract)}")
        if fmt(extract) == "csv":
            return pl.scan_csv(path, infer_schema=False)
        return pl.scan_parquet(path)
    d = lambda c: pl.col(c).str.to_date("%Y-%m-%d")
    T = pl.lit(t)
    lo = months_back(t, 6)
    reg = (
        p("registrations")
        .with_columns(start=d("start_date"), end=d("end_date"))
        .filter((pl.col("start") <= T) & (pl.col("end").is_null() | (pl.col("end") > T)))
        .with_columns(end_key=pl.col("end").fill_null(pl.date(9999, 12, 31)))
        .sort(["patient_id", "start", "end_key", "practice_code"], descending=[False, True, True, False])
        .group_by("patient_id")
        .first()
        .select("patient_id", "practice_code")
    )
    alive = p("patients").with_columns(dod=d("date_of_death")).filter(
        pl.col("dod").is_null() | (pl.col("dod") > T)
    ).select("patient_id")
    pop = reg.join(alive, on="patient_id")
    ev = (
        p("clinical_events")
        .filter(d("date") <= T)
        .join(ev_codes.lazy(), left_on="snomedct_code", right_on="code")
        .group_by("patient_id")
        .agg(
            ld=(pl.col("concept") == "ld").any(),
            au=(pl.col("concept") == "autism").any(),
            smi=(pl.col("concept") == "smi").any(),
            pal=(pl.col("concept") == "palliative").any(),
            dep=pl.col("concept").is_in(["depression", "anxiety"]).any(),
            pain=(pl.col("concept") == "pain_or_sleep").any(),
        )
    )
    med = (
        p("medications")
        .filter((d("date") > pl.lit(lo)) & (d("date") <= T))
        .join(drug_codes.lazy(), left_on="dmd_code", right_on="dmd_id")
        .group_by("patient_id")
        .agg(pl.col("ap").any(), pl.col("ad").any(), pl.col("ad_other").any())
    )
    flags = ["ld", "au", "smi", "pal", "dep", "pain", "ap", "ad", "ad_other"]
    f = (
        pop.join(ev, on="patient_id", how="left")
        .join(med, on="patient_id", how="left")
        .with_columns([pl.col(c).fill_null(False) for c in flags])
    )
    ld, au, smi, pal, dep, pain, ap, ad, ad_other = (pl.col(c) for c in flags)
    unexp = ~dep & ~(pain & ~ad_other)
    s = lambda e: e.sum().cast(pl.Int64)
    res = (
        f.group_by("practice_code")
        .agg(
            s(ld), pl.len().cast(pl.Int64).alias("n"),
            s(ld & ap).alias("a"), s(ld).alias("b"),
            s(ld & ap & ~smi & ~pal).alias("c"), s(ld).alias("d"),
            s(ld & ap & ~smi & ~pal).alias("e"), s(ld & ap).alias("f"),
            s(au & ld & ap).alias("g"), s(au & ld).alias("h"),
            s(au & ~ld & ap).alias("i"), s(au & ~ld).alias("j"),
            s(ld & ad & unexp).alias("k"), s(ld & ad).alias("l"),
            s(ld & ad & unexp).alias("m"), s(ld).alias("o"),
        )
        .sort("practice_code")
        .collect(engine="streaming")
    )
    write(out, res.rows())


def write(out, rows):
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow(r)


if __name__ == "__main__":
    import datetime
    engine, extract, t, out, threads, codes_csv = sys.argv[1:7]
    t = datetime.date.fromisoformat(t)
    {"duckdb": run_duckdb, "polars": run_polars}[engine](extract, t, out, int(threads), codes_csv)
