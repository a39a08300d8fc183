#!/usr/bin/env python3
"""Run a stomp-audit over a bucketed extract on Apache Spark.

`stomp-audit partition EXTRACT --buckets B --out BUCKETS` splits an extract
by patient. This job lists the bucket folders, runs one Spark task per
bucket (the stomp-audit binary with `audit --partial`), and each task
returns its partial to the driver as Arrow (IPC stream bytes of its count,
review and rejected-row tables, plus its partial.json). The driver writes
the partials back out and runs `stomp-audit merge`, so statistics,
disclosure control and every report are computed once, on the sums.

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
    p.add_argument("--buckets", required=True, help="folder of bucket-NNN extracts")
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


def audit_bucket(bucket, binary, index_dates, spec, threads):
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
    buckets = sorted(
        os.path.join(args.buckets, d)
        for d in os.listdir(args.buckets)
        if d.startswith("bucket-") and os.path.isdir(os.path.join(args.buckets, d))
    )
    if not buckets:
        sys.exit(f"no bucket-NNN folders in {args.buckets}: run stomp-audit partition first")
    binary = os.path.abspath(args.binary) if args.binary else None
    buckets = [os.path.abspath(b) for b in buckets]
    spec = os.path.abspath(args.spec) if args.spec else None
    dates, threads = list(args.index_dates), args.task_threads
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
        "buckets": len(buckets),
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
