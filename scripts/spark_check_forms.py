#!/usr/bin/env python3
"""Writes the forms of an extract that scripts/spark_check.sh runs through
Spark, each a folder under WORK:

- text:   Parquet with every value as text (as ehrQL writes an extract);
- typed:  Parquet with typed columns: integer ids, dates, timestamps late in
          the day (in UTC, and without a zone, in milliseconds), floats;
- quoted: CSV where every seventh dose text holds doubled quotes and a comma;
- zoned:  typed, with the dates of death in the Europe/London time zone;
- lines:  CSV with a blank line and a quoted field spanning two lines;
- fields: CSV with a row with one field too many and one with two too few.

    spark_check_forms.py EXTRACT WORK
"""

import os
import shutil
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq


def read(path):
    """A CSV table with every value as text."""
    with open(path, encoding="utf-8") as f:
        names = f.readline().strip().split(",")
    options = pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                  strings_can_be_null=True)
    return pcsv.read_csv(path, convert_options=options)


def late_in_the_day(dates, unit, zone, hours):
    """ISO dates as timestamps `hours` after their midnight."""
    seconds = pc.cast(pc.strptime(dates, format="%Y-%m-%d", unit="s"), pa.int64())
    late = pc.add(seconds, int(hours * 3600))
    return pc.cast(pc.cast(late, pa.timestamp("s")), pa.timestamp(unit, zone))


def typed(table, zone="UTC"):
    """The table with the columns an extract may type, typed; the dates of
    death as timestamps in `zone`."""
    columns = {}
    for name in table.column_names:
        c = table.column(name)
        if name == "patient_id":
            c = pc.cast(c, pa.int64())
        elif name in ("date", "date_of_birth"):
            c = pc.cast(pc.strptime(c, format="%Y-%m-%d", unit="s"), pa.date32())
        elif name == "date_of_death":
            c = late_in_the_day(c, "us", zone, 23.5)
        elif name in ("start_date", "end_date"):
            c = late_in_the_day(c, "ms", None, 23)
        elif name in ("quantity", "numeric_value"):
            c = pc.cast(c, pa.float64())
        columns[name] = c
    return pa.table(columns)


def edit(path, change):
    """Rewrites a CSV file's lines through `change`."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(change(lines)))


def quoted(lines):
    """Every seventh issue with an empty dose text gets a quoted one."""
    dose = '"ONE tablet ""at night"", with food"'
    return [l + dose if i % 7 == 3 and l.endswith(",") else l for i, l in enumerate(lines)]


def main(src, work):
    for form in ("text", "typed", "zoned", "quoted", "lines", "fields"):
        os.makedirs(os.path.join(work, form))
    for name in sorted(os.listdir(src)):
        stem, table = name.removesuffix(".csv"), read(os.path.join(src, name))
        pq.write_table(table, os.path.join(work, "text", stem + ".parquet"))
        pq.write_table(typed(table), os.path.join(work, "typed", stem + ".parquet"))
        pq.write_table(typed(table, "Europe/London"), os.path.join(work, "zoned", stem + ".parquet"))
        for form in ("quoted", "lines", "fields"):
            shutil.copy(os.path.join(src, name), os.path.join(work, form, name))
    edit(os.path.join(work, "quoted", "medications.csv"), quoted)
    edit(os.path.join(work, "lines", "registrations.csv"), lambda ls: ls[:5] + [""] + ls[5:])
    edit(os.path.join(work, "lines", "medications.csv"),
         lambda ls: ls[:9] + [ls[9] + '"one tablet\nat night"'] + ls[10:])
    edit(os.path.join(work, "fields", "clinical_events.csv"),
         lambda ls: ls[:4] + [ls[4] + ",extra"] + ls[5:])
    edit(os.path.join(work, "fields", "patients.csv"),
         lambda ls: ls[:7] + [ls[7].rsplit(",", 2)[0]] + ls[8:])


if __name__ == "__main__":
    main(*sys.argv[1:])
