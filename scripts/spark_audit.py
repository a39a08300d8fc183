#!/usr/bin/env python3
"""Run a stomp-audit over an extract on Apache Spark.

Two ways in:

- `--extract PATH` (an extract folder on storage every executor reads):
  Spark reads the five tables itself (Parquet or Delta with their column
  types; CSV or CSV.gz as text, with RFC 4180 quoting), gives each row its patient's
  bucket (FNV-1a 64 of the patient id, trimmed as Rust trims, mod B: the
  hash of `stomp-audit partition`, in a vectorised Arrow UDF), and hands
  each bucket to one task. By default (`--handoff files`) Spark itself
  writes each table's rows as one Parquet file per bucket, in file order,
  to a scratch folder (`--scratch`), and each task runs the engine on its
  bucket's files: no row passes through Python. `--handoff arrow` instead
  groups the rows by bucket with applyInArrow and each task writes them to
  task-local files: no shared scratch, but slower.
- `--buckets BUCKETS`: the folders `stomp-audit partition EXTRACT --buckets
  B --out BUCKETS` wrote on one machine; one task per folder.

Either way each task runs the stomp-audit binary with `audit --partial` and
returns its partial to the driver as Arrow (IPC stream bytes of its count,
review and rejected-row tables, plus its partial.json). The driver writes
the partials back out and runs `stomp-audit merge`, so statistics,
disclosure control and every report are computed once, on the sums.

Where `--extract` and the single machine can differ, and what it does:
- rows that Spark's CSV reader would read otherwise than the engine (a row
  with the wrong number of fields, a blank line, a quoted field spanning
  lines), and timestamps in a zone other than UTC: the job stops before
  merging and names each, as `partition` does, where the single machine
  rejects such rows and goes on (or refuses the zone too);
- a rejected row is named by its row in its bucket's file, not its line in
  the input (as with `partition`).

Local run (what scripts/spark_check.sh and the benchmarks do):

    python scripts/spark_audit.py --master 'local[2]' --binary target/release/stomp-audit \\
        --buckets BUCKETS --index-date 2024-03-31 --out out-spark

On a cluster, ship the binary with the job; the extract (or the buckets)
and the scratch folder must be on storage every executor reads (DBFS, a
Unity Catalog volume, HDFS via a FUSE mount, a shared volume):

    spark-submit --master yarn --files target/release/stomp-audit \\
        scripts/spark_audit.py --extract /dbfs/stomp/extract --bucket-count 64 \\
        --scratch /dbfs/stomp/scratch --index-date 2024-03-31 --out /dbfs/stomp/out

Without --binary the task uses the shipped file (SparkFiles). Each task
gets --threads 1 by default: Spark already runs one task per core.
"""

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

TABLES = ("counts.parquet", "review.parquet", "rejected.parquet")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--buckets", help="folder of bucket-NNN extracts (stomp-audit partition)")
    src.add_argument("--extract", help="an extract folder, read and bucketed by Spark")
    p.add_argument("--bucket-count", type=int, default=None,
                   help="with --extract: buckets (default: Spark's default parallelism)")
    p.add_argument("--mapping", default=None,
                   help="with --extract: the extract's column mapping (readable by every task)")
    p.add_argument("--handoff", choices=("files", "arrow"), default="files",
                   help="with --extract: how a task gets its bucket's rows: files Spark writes "
                        "to --scratch (default, faster), or Arrow through Python (no scratch)")
    p.add_argument("--scratch", default=None,
                   help="with --extract: a folder every executor reads and writes, for the "
                        "bucket files (default: a temp folder beside --out, removed after)")
    p.add_argument("--index-date", action="append", required=True, dest="index_dates")
    p.add_argument("--out", required=True, help="output folder of the merged run")
    p.add_argument("--master", default=None, help="Spark master (default: spark-submit's)")
    p.add_argument("--binary", default=None, help="stomp-audit binary (default: the shipped file)")
    p.add_argument("--spec", default=None, help="a spec file (must be readable by every task)")
    p.add_argument("--task-threads", type=int, default=1)
    p.add_argument("--partials", default=None, help="keep the partials here (default: a temp folder)")
    p.add_argument("--disclosure-control", action="store_true")
    p.add_argument("--force", action="store_true")
    return p.parse_args(argv)


STEMS = ("patients", "registrations", "medications", "clinical_events", "practices")
FNV_OFFSET, FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3


# What Rust's `str::trim` strips: the Unicode White_Space characters.
WHITE_SPACE = ("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
               "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def fnv1a_bucket(ids, buckets):
    """FNV-1a 64 of each trimmed id's UTF-8 bytes, mod `buckets`, for an
    Arrow array of ids (a null id hashes as the empty text): the bucket
    stomp-audit partition gives it. Vectorised over the ids, one step per
    byte position, on the array's own buffers."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    ws = "".join("\\x{%x}" % ord(c) for c in WHITE_SPACE)
    if not isinstance(ids, (pa.Array, pa.ChunkedArray)):
        ids = pa.array(ids)
    ids = pc.fill_null(ids.cast(pa.large_string()), "")
    ids = pc.replace_substring_regex(ids, pattern=f"^[{ws}]+|[{ws}]+$", replacement="")
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    n = len(ids)
    if n == 0:
        return pa.array([], pa.int64())
    _, offsets, data = ids.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64)[ids.offset: ids.offset + n + 1]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    starts, lengths = offsets[:-1], np.diff(offsets)
    h = np.full(n, FNV_OFFSET, dtype=np.uint64)
    prime = np.uint64(FNV_PRIME)
    with np.errstate(over="ignore"):
        for k in range(int(lengths.max())):
            live = np.nonzero(lengths > k)[0]
            if len(live) == n:
                h = (h ^ data[starts + k]) * prime
            else:
                h[live] = (h[live] ^ data[starts[live] + k]) * prime
    return pa.array((h % np.uint64(buckets)).astype(np.int64))


def bucket_column(buckets):
    """The bucket of a patient id column as a Spark column function: an
    Arrow UDF where Spark has them (4.1 on), else a pandas UDF around the
    same function."""
    from pyspark.sql import functions as F

    if hasattr(F, "arrow_udf"):
        import pyarrow as pa

        @F.arrow_udf("long")
        def bucket(ids: pa.Array) -> pa.Array:
            return fnv1a_bucket(ids, buckets)

        return bucket

    @F.pandas_udf("long")
    def bucket_pandas(ids):
        return fnv1a_bucket(ids, buckets).to_pandas()

    return bucket_pandas


def find_table(extract, stem):
    """The file of one table in an extract folder, (path, format): Parquet,
    CSV, CSV.gz, or a Delta table (a folder with a `_delta_log`)."""
    for ext, fmt in ((".parquet", "parquet"), (".csv", "csv"), (".csv.gz", "csv")):
        path = os.path.join(extract, stem + ext)
        if os.path.exists(path):
            return path, fmt
    path = os.path.join(extract, stem)
    if os.path.isdir(os.path.join(path, "_delta_log")):
        return path, "delta"
    sys.exit(f"{extract}: no {stem}.parquet, {stem}.csv, {stem}.csv.gz or Delta table {stem}/")


CORRUPT = "_corrupt_record"


def uri(path):
    """A path as Spark must be given it: every path here is one the driver
    and every task see as a file (a FUSE mount such as /dbfs on Databricks,
    a shared volume), so Spark reads and writes it as a local file too, not
    on the cluster's default file system."""
    return "file://" + os.path.abspath(path)


def read_table(spark, path, fmt):
    """One table, each row with its place in the file (`_row`). Parquet and
    Delta keep their column types, which the engine reads as it does on one
    machine. CSV is read as text with RFC 4180 quoting (a quote inside a
    quoted field is doubled), and a row with the wrong number of fields
    keeps its line in `_corrupt_record`, so that it is reported, not read
    with fields padded or dropped."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    if fmt == "csv":
        names = csv_header(spark, path)
        schema = StructType([StructField(c, StringType()) for c in names]
                            + [StructField(CORRUPT, StringType())])
        df = (spark.read.option("header", True).option("escape", '"')
              .option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", CORRUPT)
              .schema(schema).csv(uri(path)))
    elif fmt == "delta":
        try:
            df = spark.read.format("delta").load(uri(path))
        except Exception as e:  # Spark raises its own classes, by version
            if "DATA_SOURCE_NOT_FOUND" not in str(e) and "find the data source" not in str(e):
                raise
            sys.exit(f"{path}: a Delta table, but this Spark cannot read Delta "
                     "(on Databricks it can; elsewhere add the delta-spark package)")
    else:
        df = spark.read.parquet(uri(path))
    # Increasing in file order (file split, then row): a bucket's rows are
    # written back in the order the single machine reads them.
    return df.withColumn("_row", F.monotonically_increasing_id())


def csv_header(spark, path):
    """A CSV file's column names as written (Spark's own header reading
    renames a repeated name, where the engine refuses the file)."""
    import csv

    first = spark.read.text(uri(path)).first()
    if first is None:
        sys.exit(f"{path}: the file is empty: not even a header")
    names = next(csv.reader([first["value"].removeprefix("\ufeff").removesuffix("\r")]))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        sys.exit(f"{path}: the column '{twice[0]}' appears more than once in the header")
    return names


def csv_line_faults(spark, path):
    """What Spark's CSV reader would pass over in silence, found on the
    file's lines: blank lines (Spark skips them; the single machine rejects
    each as a row with one field) and lines with an odd number of quotes
    (a quoted field spanning lines, which Spark, splitting the file by
    lines, would break in two). Returns a list of fault texts."""
    from pyspark.sql import functions as F

    line = F.regexp_replace("value", "\r$", "")
    quotes = F.length(line) - F.length(F.regexp_replace(line, '"', ""))
    found = (spark.read.text(uri(path))
             .select(F.sum((line == "").cast("long")).alias("blank"),
                     F.sum((quotes % 2 == 1).cast("long")).alias("odd"))
             .first())
    faults = []
    if found["blank"]:
        faults.append(f"{found['blank']} blank lines (the single machine rejects each "
                      "as a row with the wrong number of fields)")
    if found["odd"]:
        faults.append(f"{found['odd']} lines with an odd number of quotes (a quoted "
                      "field spanning lines, which Spark cannot read from a split file)")
    return faults


# The zones the engine reads as UTC (src/ingest/source.rs, `as_text`).
UTC_ZONES = ("UTC", "utc", "Etc/UTC", "Z", "+00:00", "GMT", "Etc/GMT")


def zone_faults(path):
    """Timestamp columns of a Parquet file in a time zone other than UTC,
    which the engine refuses (it reads a timestamp as its date in UTC or
    as written) and Spark would pass on as UTC: fault texts."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return [f"the column '{f.name}' holds timestamps in the time zone {f.type.tz}, "
            "which the engine refuses: write dates, or timestamps in UTC or without a zone"
            for f in pq.read_schema(path)
            if pa.types.is_timestamp(f.type) and f.type.tz and f.type.tz not in UTC_ZONES]


def corrupt_rows(table, stem, limit=3):
    """The rows of an Arrow table that Spark's CSV reader found with the
    wrong number of fields, as [stem, count, first few lines], or None."""
    if CORRUPT not in table.column_names:
        return None
    bad = table.column(CORRUPT).drop_null()
    if len(bad) == 0:
        return None
    return [stem, len(bad), [v[:200] for v in bad.slice(0, limit).to_pylist()]]


def refuse(what, faults):
    """Stops the job, naming each fault: the extract needs mending first,
    as `stomp-audit partition` asks for the same faults."""
    lines = [f"  {f}" for f in faults]
    sys.exit("\n".join([f"{what}:", *lines,
                        "the single machine counts these rows as rejected; Spark cannot "
                        "read them the same way, so nothing was audited: fix the extract, "
                        "or audit it on one machine"]))


def merge_faults(results):
    """The faults the tasks found, summed per table into texts."""
    counts, shown = {}, {}
    for r in results:
        for stem, n, lines in json.loads(r[4]):
            counts[stem] = counts.get(stem, 0) + n
            shown.setdefault(stem, []).extend(lines)
    return [f"{stem}: {n} rows with the wrong number of fields, e.g. "
            + "; ".join(repr(v) for v in shown[stem][:3]) for stem, n in sorted(counts.items())]


def bucketed_audit(spark, args, binary, dates, spec, threads):
    """--extract: Spark reads and buckets the tables; one task per bucket,
    its rows handed over as files or as Arrow (--handoff)."""
    import pyarrow.parquet as pq

    extract = os.path.abspath(args.extract)
    buckets = args.bucket_count or spark.sparkContext.defaultParallelism
    if not 1 <= buckets <= 65536:
        sys.exit(f"--bucket-count must be between 1 and 65536, not {buckets}")
    spark.conf.set("spark.sql.shuffle.partitions", str(buckets))
    # Timestamps written back as the engine reads them (not Spark's INT96).
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    mapping = os.path.abspath(args.mapping) if args.mapping else None
    files = {stem: find_table(extract, stem) for stem in STEMS}
    faults = [f"{os.path.basename(path)}: {fault}" for path, fmt in files.values()
              for fault in (csv_line_faults(spark, path) if fmt == "csv"
                            else zone_faults(path) if fmt == "parquet" else [])]
    # The practices table goes to every bucket, as Parquet bytes.
    practices = read_table(spark, *files["practices"]).drop("_row").toArrow()
    bad = corrupt_rows(practices, "practices")
    if bad:
        faults += merge_faults([(None, 0, None, None, json.dumps([bad]))])
    if faults:
        refuse(extract, faults)
    if CORRUPT in practices.column_names:
        practices = practices.drop_columns([CORRUPT])
    sink = io.BytesIO()
    pq.write_table(practices, sink)
    practices = sink.getvalue()
    bucket_udf = bucket_column(buckets)
    tables = {}
    for stem in STEMS[:4]:
        df = read_table(spark, *files[stem])
        tables[stem] = df.withColumn("_bucket", bucket_udf(df["patient_id"]))
    run = (spark, tables, buckets, practices, (binary, dates, spec, threads, mapping))
    if args.handoff == "arrow":
        results = arrow_handoff(*run)
    else:
        scratch = args.scratch or tempfile.mkdtemp(
            prefix=".stomp-buckets-", dir=os.path.dirname(os.path.abspath(args.out)))
        try:
            results = file_handoff(*run, os.path.abspath(scratch))
        finally:
            if not args.scratch:
                shutil.rmtree(scratch, ignore_errors=True)
    faults = merge_faults(results)
    if faults:
        refuse(extract, faults)
    return results


def file_handoff(spark, tables, buckets, practices, engine, scratch):
    """Spark writes each table's rows as one Parquet file per bucket
    (shuffled by bucket, in file order within it) to `scratch`, and one
    task per bucket runs the engine on its files: no row passes through
    Python."""
    from pyspark.sql import functions as F

    keys = F.array(*[F.lit(k).cast("bigint") for k in partition_keys(spark, buckets)])
    for stem, df in tables.items():
        start = time.time()
        (df.repartition(buckets, F.element_at(keys, F.col("_bucket").cast("int") + 1))
           .sortWithinPartitions("_bucket", "_row")
           .write.mode("overwrite").partitionBy("_bucket")
           .parquet(uri(os.path.join(scratch, stem))))
        print(f"  {stem}: read, bucketed and written in {time.time() - start:.2f} s", file=sys.stderr)
    with open(os.path.join(scratch, "practices.parquet"), "wb") as f:
        f.write(practices)
    columns = {stem: [c for c in df.columns if c != "_bucket"] for stem, df in tables.items()}

    def task(bucket):
        with tempfile.TemporaryDirectory() as tmp:
            folder = os.path.join(tmp, f"bucket-{bucket:03d}")
            os.makedirs(folder)
            os.symlink(os.path.join(scratch, "practices.parquet"),
                       os.path.join(folder, "practices.parquet"))
            faults = []
            for stem, cols in columns.items():
                table = os.path.join(folder, stem + ".parquet")
                bucket_file(os.path.join(scratch, stem, f"_bucket={bucket}"), cols, table)
                faults.append(file_faults(table, stem))
            return finish_task(folder, engine, faults)

    sc = spark.sparkContext
    return sc.parallelize(range(buckets), buckets).map(task).collect()


def partition_keys(spark, buckets):
    """For each bucket, a key that Spark's hash partitioning sends to the
    Spark partition of the same number, so that each bucket is written by
    its own task: partitioning by the bucket number itself would put some
    buckets together and leave other partitions empty."""
    from pyspark.sql import functions as F

    keys, span = {}, 16 * buckets
    while len(keys) < buckets:
        rows = spark.range(0, span).select(
            "id", F.expr(f"pmod(hash(id), {buckets})").alias("p")).collect()
        for r in rows:
            keys.setdefault(r["p"], r["id"])
        span *= 4
    return [keys[b] for b in range(buckets)]


def file_faults(path, stem):
    """corrupt_rows of a bucket's Parquet file, reading only that column."""
    import pyarrow.parquet as pq

    if CORRUPT not in pq.read_schema(path).names:
        return None
    return corrupt_rows(pq.read_table(path, columns=[CORRUPT]), stem)


def finish_task(folder, engine, faults):
    """The engine on a bucket folder, unless its rows had faults: then
    only the faults go back, as JSON in the result's last place."""
    faults = [f for f in faults if f]
    if faults:
        return os.path.basename(folder), 0.0, "", {}, json.dumps(faults)
    return (*audit_bucket(folder, *engine), "[]")


def bucket_file(parts_dir, columns, path):
    """Puts one table's rows of one bucket at `path`: Spark's file itself
    when it is one file in file order (the usual case), else its files'
    rows sorted back into file order, or an empty table of text columns
    when the bucket has no rows of it."""
    import glob

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = sorted(glob.glob(os.path.join(parts_dir, "*.parquet")))
    if len(parts) == 1:
        order = pq.read_table(parts[0], columns=["_row"]).column("_row").to_numpy()
        if np.all(order[1:] > order[:-1]):
            os.symlink(parts[0], path)
            return
    if parts:
        table = pa.concat_tables(pq.read_table(p) for p in parts).sort_by("_row")
    else:
        table = pa.table({c: pa.array([], pa.string()) for c in columns})
    pq.write_table(table, path)


def arrow_handoff(spark, tables, buckets, practices, engine):
    """The rows grouped by bucket with applyInArrow: each task gets its
    bucket's rows as Arrow, writes them to task-local Parquet and runs the
    engine on them. Slower than the file handoff (every row passes through
    Python), but needs no shared scratch storage."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from pyspark.sql import functions as F

    shared = spark.sparkContext.broadcast(practices)
    columns = {stem: [c for c in df.columns if c not in ("_row", "_bucket")]
               for stem, df in tables.items()}
    # Each table's columns under its own name, so that a column two tables
    # share keeps each table's type in the union.
    rows = None
    for stem, df in tables.items():
        part = df.select([F.col(f"`{c}`").alias(f"{stem}:{c}") for c in columns[stem]]
                         + ["_row", "_bucket", F.lit(stem).alias("_table")])
        rows = part if rows is None else rows.unionByName(part, allowMissingColumns=True)

    def task(group):
        bucket = group.column("_bucket")[0].as_py()
        with tempfile.TemporaryDirectory() as tmp:
            folder = os.path.join(tmp, f"bucket-{bucket:03d}")
            os.makedirs(folder)
            with open(os.path.join(folder, "practices.parquet"), "wb") as f:
                f.write(shared.value)
            faults = []
            for stem, cols in columns.items():
                table = group.filter(pc.equal(group.column("_table"), stem))
                table = table.sort_by("_row").select([f"{stem}:{c}" for c in cols])
                table = table.rename_columns(cols)
                faults.append(corrupt_rows(table, stem))
                pq.write_table(table, os.path.join(folder, stem + ".parquet"))
            name, secs, meta, tables, found = finish_task(folder, engine, faults)
        return pa.table({
            "name": [name], "secs": [secs], "meta": [meta], "faults": [found],
            **{t: pa.array([tables.get(t, b"")], pa.binary()) for t in TABLES},
        })

    schema = "name string, secs double, meta string, faults string, " + ", ".join(
        f"`{t}` binary" for t in TABLES)
    out = rows.groupBy("_bucket").applyInArrow(task, schema).collect()
    return [(r["name"], r["secs"], r["meta"], {t: bytes(r[t]) for t in TABLES}, r["faults"])
            for r in out]


def audit_bucket(bucket, binary, index_dates, spec, threads, mapping=None):
    """One Spark task: the engine on one bucket; the partial as Arrow."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if binary is None:
        from pyspark import SparkFiles

        binary = SparkFiles.get("stomp-audit")
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "partial")
        cmd = [binary, "audit", bucket, "--partial", "--out", out, "-q", "--threads", str(threads)]
        for d in index_dates:
            cmd += ["--index-date", d]
        if spec:
            cmd += ["--spec", spec]
        if mapping is None:
            mapping = os.path.join(bucket, "mapping.toml")
        if os.path.exists(mapping):
            cmd += ["--mapping", mapping]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{bucket}: stomp-audit exited {done.returncode}: {done.stderr}")
        tables = {}
        for name in TABLES:
            table = pq.read_table(os.path.join(out, name))
            sink = io.BytesIO()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            tables[name] = sink.getvalue()
        with open(os.path.join(out, "partial.json"), encoding="utf-8") as f:
            meta = f.read()
    return os.path.basename(bucket.rstrip("/")), time.time() - start, meta, tables


def write_partial(folder, meta, tables):
    """Writes a partial folder back from what a task returned."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "partial.json"), "w", encoding="utf-8") as f:
        f.write(meta)
    for name, data in tables.items():
        table = pa.ipc.open_stream(data).read_all()
        pq.write_table(table, os.path.join(folder, name), compression="zstd")


def main(argv):
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    start = time.time()
    builder = SparkSession.builder.appName("stomp-audit")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    started = time.time()
    binary = os.path.abspath(args.binary) if args.binary else None
    spec = os.path.abspath(args.spec) if args.spec else None
    dates, threads = list(args.index_dates), args.task_threads
    if args.extract:
        results = bucketed_audit(spark, args, binary, dates, spec, threads)
    else:
        buckets = sorted(
            os.path.join(args.buckets, d)
            for d in os.listdir(args.buckets)
            if d.startswith("bucket-") and os.path.isdir(os.path.join(args.buckets, d))
        )
        if not buckets:
            sys.exit(f"no bucket-NNN folders in {args.buckets}: run stomp-audit partition first")
        buckets = [os.path.abspath(b) for b in buckets]
        results = (
            spark.sparkContext.parallelize(buckets, len(buckets))
            .map(lambda b: (*audit_bucket(b, binary, dates, spec, threads), "[]"))
            .collect()
        )
    tasks_done = time.time()

    keep = args.partials or tempfile.mkdtemp(prefix="stomp-partials-")
    folders = []
    for name, secs, meta, tables, _ in sorted(results):
        folder = os.path.join(keep, name)
        write_partial(folder, meta, tables)
        folders.append(folder)
        print(f"  {name}: {secs:.2f} s in its task", file=sys.stderr)
    merge = [binary or "stomp-audit", "merge", *folders, "--out", args.out, "-q"]
    if spec:
        merge += ["--spec", spec]
    if args.disclosure_control:
        merge.append("--disclosure-control")
    if args.force:
        merge.append("--force")
    subprocess.run(merge, check=True)
    end = time.time()
    report = {
        "buckets": len(results),
        "spark_start_s": round(started - start, 2),
        "tasks_s": round(tasks_done - started, 2),
        "slowest_task_s": round(max(r[1] for r in results), 2),
        "sum_of_tasks_s": round(sum(r[1] for r in results), 2),
        "merge_s": round(end - tasks_done, 2),
        "total_s": round(end - start, 2),
    }
    print(json.dumps(report))
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
