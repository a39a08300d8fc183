#!/usr/bin/env python3
"""Four of stomp-audit's EPD measures, as an analyst would write them in
DuckDB SQL or a Python polars lazy query, on the same prescribing file and
list sizes: per practice, the numerators of EPD01 (antipsychotic items,
BNF 0402010 and 0402020), EPD02 (their ADQs), EPD03 (depot items, 0402020)
and EPD04 (lithium items, 0402030K0 and 0402030P0), and the list size.

    bench_epd_peers.py duckdb|polars EPD(.csv|.parquet) LIST_SIZES.csv OUT.csv THREADS

Writes one row per practice with a list size and a measure row, ADQs
rounded to 2 decimals (sums of decimals differ in their last bits with the
order of addition), so scripts/bench.sh can check that the engines agree.
"""
import csv
import os
import sys

COLUMNS = ["practice_code", "EPD01_num", "EPD02_num", "EPD03_num", "EPD04_num", "list_size"]


def run_duckdb(epd, lists, out, threads):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    read = (
        f"read_parquet('{epd}')"
        if epd.endswith(".parquet")
        else f"read_csv('{epd}', header = true, all_varchar = true)"
    )
    rows = con.execute(
        f"""
        WITH rx AS (
            SELECT PRACTICE_CODE AS practice, BNF_CODE AS bnf,
                   CAST(ITEMS AS DOUBLE) AS items, CAST(ADQUSAGE AS DOUBLE) AS adq
            FROM {read}
            WHERE BNF_CODE LIKE '0402%'
        ),
        sums AS (
            SELECT practice,
                   SUM(CASE WHEN bnf LIKE '0402010%' OR bnf LIKE '0402020%' THEN items ELSE 0 END) AS e1,
                   SUM(CASE WHEN bnf LIKE '0402010%' OR bnf LIKE '0402020%' THEN adq ELSE 0 END) AS e2,
                   SUM(CASE WHEN bnf LIKE '0402020%' THEN items ELSE 0 END) AS e3,
                   SUM(CASE WHEN bnf LIKE '0402030K0%' OR bnf LIKE '0402030P0%' THEN items ELSE 0 END) AS e4
            FROM rx GROUP BY practice
        ),
        lists AS (
            SELECT ORG_CODE AS practice, CAST(NUMBER_OF_PATIENTS AS BIGINT) AS n
            FROM read_csv('{lists}', header = true, all_varchar = true)
            WHERE SEX = 'ALL' AND AGE_GROUP_5 = 'ALL'
        )
        SELECT s.practice, s.e1, s.e2, s.e3, s.e4, l.n
        FROM sums s JOIN lists l USING (practice)
        ORDER BY s.practice
        """
    ).fetchall()
    write(out, rows)


def run_polars(epd, lists, out, threads):
    os.environ["POLARS_MAX_THREADS"] = str(threads)
    import polars as pl

    scan = (
        pl.scan_parquet(epd)
        if epd.endswith(".parquet")
        else pl.scan_csv(epd, infer_schema=False)
    )
    bnf = pl.col("BNF_CODE")
    antipsychotic = bnf.str.starts_with("0402010") | bnf.str.starts_with("0402020")
    items = pl.col("ITEMS").cast(pl.Float64)
    adq = pl.col("ADQUSAGE").cast(pl.Float64)
    zero = pl.lit(0.0)
    sums = (
        scan.select(["PRACTICE_CODE", "BNF_CODE", "ITEMS", "ADQUSAGE"])
        .filter(bnf.str.starts_with("0402"))
        .group_by("PRACTICE_CODE")
        .agg(
            pl.when(antipsychotic).then(items).otherwise(zero).sum().alias("e1"),
            pl.when(antipsychotic).then(adq).otherwise(zero).sum().alias("e2"),
            pl.when(bnf.str.starts_with("0402020")).then(items).otherwise(zero).sum().alias("e3"),
            pl.when(bnf.str.starts_with("0402030K0") | bnf.str.starts_with("0402030P0"))
            .then(items)
            .otherwise(zero)
            .sum()
            .alias("e4"),
        )
    )
    sizes = (
        pl.scan_csv(lists, infer_schema=False)
        .filter((pl.col("SEX") == "ALL") & (pl.col("AGE_GROUP_5") == "ALL"))
        .select(pl.col("ORG_CODE").alias("PRACTICE_CODE"), pl.col("NUMBER_OF_PATIENTS").cast(pl.Int64))
    )
    df = sums.join(sizes, on="PRACTICE_CODE").sort("PRACTICE_CODE").collect()
    write(out, df.rows())


def write(out, rows):
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for practice, e1, e2, e3, e4, n in rows:
            w.writerow([practice, f"{e1:.0f}", f"{e2:.2f}", f"{e3:.0f}", f"{e4:.0f}", n])


if __name__ == "__main__":
    engine, epd, lists, out, threads = sys.argv[1:6]
    {"duckdb": run_duckdb, "polars": run_polars}[engine](epd, lists, out, int(threads))
