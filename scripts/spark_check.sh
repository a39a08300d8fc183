#!/usr/bin/env bash
# Runs the audit under Apache Spark (PySpark 4, local[2] on loopback) and
# checks it against the single-machine run, byte for byte: Spark reading and
# bucketing the extract itself (--extract: the sample as CSV and as Parquet,
# 1, 4 and 16 buckets), and the buckets of `stomp-audit partition`
# (--buckets). With a size, also times the single machine, --extract and
# partition + --buckets on a generated Parquet extract of that many patients.
#
#   scripts/spark_check.sh [PATIENTS]      default: the bundled sample only
#
# Needs Java 17 (Debian: openjdk-17-jre-headless) and makes a virtual
# environment with PySpark and pyarrow from PyPI in target/spark-venv. Not
# part of CI (the PySpark download and JVM start would take most of its time).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/spark-venv
if ! command -v java >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q pyspark==4.3.0 pyarrow==26.0.1 "pandas<3"
fi
if [ ! -x /usr/bin/time ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
cargo build --release --quiet
bin=target/release/stomp-audit
py="$venv/bin/python"
export SPARK_LOCAL_IP=127.0.0.1 PYSPARK_PYTHON="$py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dates=(--index-date 2023-03-31 --index-date 2024-03-31)

# compare SINGLE MERGED: the outputs that hold results must be identical.
compare() {
  for f in indicators.csv indicators.parquet changes.csv deciles.csv review_list.csv report.html; do
    cmp -s "$1/$f" "$2/$f" || { echo "DIFFERENT: $f" >&2; exit 1; }
  done
  echo "identical: indicators.csv/.parquet, changes.csv, deciles.csv, review_list.csv, report.html"
}

"$bin" audit data-samples/extract "${dates[@]}" --out "$work/single" -q
# The sample as Parquet, every value as text (as ehrQL writes an extract).
mkdir -p "$work/sample-parquet"
"$py" - data-samples/extract "$work/sample-parquet" <<'EOF'
import os, sys
import pyarrow.csv as pc, pyarrow.parquet as pq
for f in os.listdir(sys.argv[1]):
    stem = f.removesuffix(".csv")
    names = open(os.path.join(sys.argv[1], f)).readline().strip().split(",")
    t = pc.read_csv(os.path.join(sys.argv[1], f),
                    convert_options=pc.ConvertOptions(column_types={n: "string" for n in names},
                                                      strings_can_be_null=True))
    pq.write_table(t, os.path.join(sys.argv[2], stem + ".parquet"))
EOF
for form in csv:data-samples/extract:1 csv:data-samples/extract:4 csv:data-samples/extract:16 "parquet:$work/sample-parquet:4"; do
  IFS=: read -r format extract b <<<"$form"
  echo "== the bundled sample as $format, read and bucketed by Spark (--extract), $b buckets, local[2]"
  "$py" scripts/spark_audit.py --master 'local[2]' --binary "$bin" \
    --extract "$extract" --bucket-count "$b" "${dates[@]}" --out "$work/spark-$format-$b"
  compare "$work/single" "$work/spark-$format-$b"
done

echo "== the bundled sample, 3 buckets of stomp-audit partition (--buckets), Spark local[2]"
"$bin" partition data-samples/extract --buckets 3 --out "$work/buckets" -q
"$py" scripts/spark_audit.py --master 'local[2]' --binary "$bin" \
  --buckets "$work/buckets" "${dates[@]}" --out "$work/spark"
compare "$work/single" "$work/spark"

if [ $# -gt 0 ]; then
  n=$1
  # The same extract scripts/bench.sh generates and keeps.
  data=${BENCH_DATA:-target/bench-data}/v2-p$n
  if [ ! -f "$data/SYNTH.txt" ]; then
    rm -rf "$data"
    mkdir -p "$(dirname "$data")"
    "$bin" synth --patients "$n" --seed 1 --format parquet --out "$data" >"$data.txt"
    mv "$data.txt" "$data/SYNTH.txt"
  fi
  echo "== $n patients: single machine (2 threads) against partition + Spark local[2] (4 buckets)"
  /usr/bin/time -f "single machine: %e s, peak %M KB" \
    "$bin" audit "$data" "${dates[@]}" --threads 2 --out "$work/big-single" -q
  /usr/bin/time -f "partition: %e s, peak %M KB" \
    "$bin" partition "$data" --buckets 4 --out "$work/big-buckets" -q
  /usr/bin/time -f "spark job: %e s, driver peak %M KB" \
    "$py" scripts/spark_audit.py --master 'local[2]' --binary "$bin" \
      --buckets "$work/big-buckets" "${dates[@]}" --out "$work/big-spark"
  compare "$work/big-single" "$work/big-spark"
  /usr/bin/time -f "spark job reading the extract (--extract, 4 buckets): %e s, driver peak %M KB" \
    "$py" scripts/spark_audit.py --master 'local[2]' --binary "$bin" \
      --extract "$data" --bucket-count 4 "${dates[@]}" --out "$work/big-extract"
  compare "$work/big-single" "$work/big-extract"
fi
