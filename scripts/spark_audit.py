#!/usr/bin/env python3
"""Run a stomp-audit over an extract on Apache Spark.

Two ways in:

- `--extract PATH` (an extract folder on storage every executor reads):
  Spark reads the five tables itself (Parquet, CSV or CSV.gz, every value
  as text), gives each row its patient's bucket (FNV-1a 64 of the trimmed
  patient id mod B, the hash of `stomp-audit partition`, worked out here
  in a vectorised UDF), and groups the rows by bucket. Each group's task
  writes its rows, in file order, and the practices table (broadcast to
  every task) to task-local Parquet files and runs the engine on them.
- `--buckets BUCKETS`: the folders `stomp-audit partition EXTRACT --buckets
  B --out BUCKETS` wrote on one machine; one task per folder.

Either way each task runs the stomp-audit binary with `audit --partial` and
returns its partial to the driver as Arrow (IPC stream bytes of its count,
review and rejected-row tables, plus its partial.json). The driver writes
the partials back out and runs `stomp-audit merge`, so statistics,
disclosure control and every report are computed once, on the sums.

Where `--extract` and the single machine can differ: a rejected row is
named by its row in its bucket's file, not its line in the input (as with
`partition`); and a CSV row with the wrong number of fields, which the
single machine rejects, is read by Spark with missing fields null or extra
ones dropped.

Local run (what scripts/spark_check.sh and the benchmarks do):

    python scripts/spark_audit.py --master 'local[2]' --binary target/release/stomp-audit \\
        --buckets BUCKETS --index-date 2024-03-31 --out out-spark

On a cluster, ship the binary with the job; the buckets must be on storage
every executor reads (DBFS, HDFS via a FUSE mount, a shared volume):

    spark-submit --master yarn --files target/release/stomp-audit \\
        scripts/spark_audit.py --buckets /dbfs/stomp/buckets \\
        --index-date 2024-03-31 --out /dbfs/stomp/out

Without --binary the task uses the shipped file (SparkFiles). Each task
gets --threads 1 by default: Spark already runs one task per core.
"""

import argparse
import io
import json
import os
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


def fnv1a_bucket(ids, buckets):
    """FNV-1a 64 of each trimmed id's UTF-8 bytes, mod `buckets` (a null id
    hashes as the empty text): the bucket stomp-audit partition gives it.
    Vectorised over the ids, one step per byte position."""
    import numpy as np

    raw = [("" if v is None else str(v)).strip().encode("utf-8") for v in ids]
    n = len(raw)
    width = max((len(b) for b in raw), default=0)
    lengths = np.fromiter((len(b) for b in raw), dtype=np.int64, count=n)
    padded = np.zeros((n, max(width, 1)), dtype=np.uint8)
    for i, b in enumerate(raw):
        padded[i, : len(b)] = np.frombuffer(b, dtype=np.uint8)
    h = np.full(n, FNV_OFFSET, dtype=np.uint64)
    prime = np.uint64(FNV_PRIME)
    with np.errstate(over="ignore"):
        for k in range(width):
            step = (h ^ padded[:, k].astype(np.uint64)) * prime
            h = np.where(lengths > k, step, h)
    return (h % np.uint64(buckets)).astype(np.int64)


def find_table(extract, stem):
    """The file of one table in an extract folder: (path, format)."""
    for ext, fmt in ((".parquet", "parquet"), (".csv", "csv"), (".csv.gz", "csv")):
        path = os.path.join(extract, stem + ext)
        if os.path.exists(path):
            return path, fmt
    sys.exit(f"{extract}: no {stem}.parquet, {stem}.csv or {stem}.csv.gz")


def read_table(spark, path, fmt):
    """One table as text columns, each row with its place in the file."""
    from pyspark.sql import functions as F

    if fmt == "csv":
        df = spark.read.option("header", True).option("inferSchema", False).csv(path)
    else:
        df = spark.read.parquet(path)
    df = df.select([F.col(c).cast("string").alias(c) for c in df.columns])
    # Increasing in file order (file split, then row): a bucket's rows are
    # written back in the order the single machine reads them.
    return df.withColumn("_row", F.monotonically_increasing_id())


def bucketed_audit(spark, args, binary, dates, spec, threads):
    """--extract: Spark reads and buckets the tables; one task per bucket."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql import functions as F
    from pyspark.sql.functions import pandas_udf

    extract = os.path.abspath(args.extract)
    buckets = args.bucket_count or spark.sparkContext.defaultParallelism
    spark.conf.set("spark.sql.shuffle.partitions", str(buckets))
    mapping = os.path.abspath(args.mapping) if args.mapping else None
    files = {stem: find_table(extract, stem) for stem in STEMS}
    # The practices table goes to every bucket: broadcast as Parquet bytes.
    practices = read_table(spark, *files["practices"]).drop("_row").toArrow()
    sink = io.BytesIO()
    pq.write_table(practices, sink)
    practices_bytes = spark.sparkContext.broadcast(sink.getvalue())

    @pandas_udf("long")
    def bucket_udf(ids):
        import pandas as pd

        return pd.Series(fnv1a_bucket(ids.tolist(), buckets))

    columns, parts = {}, []
    for stem in STEMS[:4]:
        df = read_table(spark, *files[stem])
        columns[stem] = [c for c in df.columns if c != "_row"]
        parts.append(df.withColumn("_table", F.lit(stem))
                     .withColumn("_bucket", bucket_udf(F.col("patient_id"))))
    rows = parts[0]
    for part in parts[1:]:
        rows = rows.unionByName(part, allowMissingColumns=True)

    def task(group):
        import pyarrow.compute as pc

        bucket = group.column("_bucket")[0].as_py()
        with tempfile.TemporaryDirectory() as tmp:
            folder = os.path.join(tmp, f"bucket-{bucket:03d}")
            os.makedirs(folder)
            with open(os.path.join(folder, "practices.parquet"), "wb") as f:
                f.write(practices_bytes.value)
            for stem, cols in columns.items():
                mask = pc.equal(group.column("_table"), stem)
                table = group.filter(mask).sort_by("_row").select(cols)
                pq.write_table(table.cast(pa.schema([(c, pa.string()) for c in cols])),
                               os.path.join(folder, stem + ".parquet"))
            name, secs, meta, tables = audit_bucket(folder, binary, dates, spec, threads, mapping)
        return pa.table({
            "name": [name], "secs": [secs], "meta": [meta],
            **{t: pa.array([tables[t]], pa.binary()) for t in TABLES},
        })

    schema = "name string, secs double, meta string, " + ", ".join(
        f"`{t}` binary" for t in TABLES)
    out = rows.groupBy("_bucket").applyInArrow(task, schema).collect()
    return [(r["name"], r["secs"], r["meta"], {t: bytes(r[t]) for t in TABLES}) for r in out]


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
            .map(lambda b: audit_bucket(b, binary, dates, spec, threads))
            .collect()
        )
    tasks_done = time.time()

    keep = args.partials or tempfile.mkdtemp(prefix="stomp-partials-")
    folders = []
    for name, secs, meta, tables in sorted(results):
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
