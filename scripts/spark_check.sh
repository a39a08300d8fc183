#!/usr/bin/env bash
# Runs the audit under Apache Spark (PySpark 4, local[2] on loopback) and
# checks it against the single-machine run, byte for byte:
# - Spark reading and bucketing the extract itself (--extract): the sample
#   as CSV (1, 4 and 16 buckets; both handoffs), as Parquet of text and of
#   typed columns, and as CSV with quoted dose texts;
# - that --extract refuses, naming them, the rows Spark would read otherwise
#   than one machine (wrong field counts, blank lines, quoted line breaks),
#   a header naming a column twice, timestamps in a zone other than UTC,
#   and a Delta table where Spark has no Delta reader;
# - that its hash puts odd ids in the buckets `stomp-audit partition` does;
# - the buckets of `stomp-audit partition` (--buckets).
# With a size, also checks and times, on the generated Parquet and CSV
# extracts of that many patients, the single machine, partition + --buckets
# (Parquet) and --extract with 1, 4 and 16 buckets.
#
#   scripts/spark_check.sh [PATIENTS]      default: the bundled sample only
#
# SPARK_FORMATS ("parquet csv"), SPARK_BUCKETS ("1 4 16") narrow the sized
# runs, SPARK_PARTITION_BUCKETS (4) sizes partition; SPARK_ARROW=1 adds
# --handoff arrow; SPARK_DRIVER_MEMORY (2g) sizes the local JVM.
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
export SPARK_LOCAL_IP=127.0.0.1 PYSPARK_PYTHON="$py" PYTHONDONTWRITEBYTECODE=1
# The local "cluster" is the driver's JVM: give it room for the shuffle.
export PYSPARK_SUBMIT_ARGS="--driver-memory ${SPARK_DRIVER_MEMORY:-2g} pyspark-shell"
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

# spark RUN FORMAT EXTRACT BUCKETS [ARGS...]: --extract into $work/spark-RUN,
# checked against the single machine on the same extract.
spark() {
  local run=$1 format=$2 extract=$3 b=$4 single
  shift 4
  single="$work/single-$(basename "$extract")"
  echo "== $run: $extract as $format, read and bucketed by Spark (--extract), $b buckets $*, local[2]"
  [ -d "$single" ] || "$bin" audit "$extract" "${dates[@]}" --out "$single" -q
  "$py" scripts/spark_audit.py --master 'local[2]' --binary "$bin" \
    --extract "$extract" --bucket-count "$b" "$@" "${dates[@]}" --out "$work/spark-$run"
  compare "$single" "$work/spark-$run"
}

# refused RUN EXTRACT TEXT...: --extract must stop, naming each TEXT.
refused() {
  local run=$1 extract=$2
  shift 2
  echo "== $run: Spark must refuse $extract, naming what the single machine rejects"
  if "$py" scripts/spark_audit.py --master 'local[2]' --binary "$bin" --extract "$extract" \
      --bucket-count 4 "${dates[@]}" --out "$work/spark-$run" 2>"$work/$run.err"; then
    echo "DIFFERENT: --extract audited an extract with rows it cannot read as one machine does" >&2
    exit 1
  fi
  for text in "$@"; do
    grep -qF "$text" "$work/$run.err" || { echo "DIFFERENT: no '$text' in:" >&2; cat "$work/$run.err" >&2; exit 1; }
  done
  echo "refused, naming: $*"
}

# Forms of the sample: Parquet with every value as text (as ehrQL writes an
# extract); Parquet with typed columns (integer ids, dates, timestamps late
# in the day in UTC and without a zone, floats); CSV whose dose texts hold
# doubled quotes and commas; CSV with faults of each kind.
"$py" scripts/spark_check_forms.py data-samples/extract "$work"

spark sample-csv-1 csv data-samples/extract 1
spark sample-csv-4 csv data-samples/extract 4
spark sample-csv-16 csv data-samples/extract 16
spark sample-csv-arrow-4 csv data-samples/extract 4 --handoff arrow
spark sample-text-parquet-4 parquet "$work/text" 4
spark sample-typed-parquet-4 parquet "$work/typed" 4
spark sample-typed-parquet-arrow-4 parquet "$work/typed" 4 --handoff arrow
spark sample-quoted-csv-4 csv "$work/quoted" 4
if "$bin" audit "$work/zoned" "${dates[@]}" --out "$work/single-zoned" -q 2>"$work/zoned.err" \
  || ! grep -qF "time zone Europe/London" "$work/zoned.err"; then
  echo "DIFFERENT: the single machine read timestamps in Europe/London" >&2
  exit 1
fi
refused zoned "$work/zoned" "patients.parquet: the column 'date_of_death' holds timestamps in the time zone Europe/London"
refused lines "$work/lines" "registrations.csv: 1 blank lines" "medications.csv: 2 lines with an odd number of quotes"
refused fields "$work/fields" "clinical_events: 1 rows with the wrong number of fields" \
  "patients: 1 rows with the wrong number of fields"

# A header that names a column twice: Spark's reader would rename one.
cp -r data-samples/extract "$work/twice"
sed -i '1s/.*/patient_id,date_of_birth,sex,sex/' "$work/twice/patients.csv"
if "$bin" audit "$work/twice" "${dates[@]}" --out "$work/single-twice" -q 2>"$work/twice.err" \
  || ! grep -qF "the column 'sex' appears more than once in the header" "$work/twice.err"; then
  echo "DIFFERENT: the single machine read a header naming a column twice" >&2
  exit 1
fi
refused twice "$work/twice" "patients.csv: the column 'sex' appears more than once in the header"

# A Delta table (a folder with a _delta_log): this Spark has no Delta reader.
cp -r data-samples/extract "$work/delta"
rm "$work/delta/medications.csv"
mkdir -p "$work/delta/medications/_delta_log"
refused delta "$work/delta" "medications: a Delta table, but this Spark cannot read Delta"

echo "== the hash of --extract against the buckets of stomp-audit partition, on ids with odd spaces"
cp -r data-samples/extract "$work/odd-ids"
printf '" 42 ",1990-01-01,male,\n\xe2\x80\x83x\xc2\xa0,1990-01-01,male,\n\xc3\xa9,1990-01-01,female,\n\x1cab\x1f,1990-01-01,female,\n\t7\t,1990-01-01,male,\n' \
  >>"$work/odd-ids/patients.csv"
"$bin" partition "$work/odd-ids" --buckets 16 --out "$work/odd-buckets" -q
"$py" - "$work/odd-buckets" <<'EOF'
import os, sys
import pyarrow.parquet as pq
sys.path.insert(0, "scripts")
from spark_audit import fnv1a_bucket
ids = 0
for k in range(16):
    got = pq.read_table(os.path.join(sys.argv[1], f"bucket-{k:03d}", "patients.parquet")).column("patient_id")
    buckets = set(fnv1a_bucket(got, 16).to_pylist())
    assert buckets <= {k}, f"bucket {k}: partition put ids there that --extract puts in {buckets}"
    ids += len(got)
print(f"identical: the bucket of each of {ids} patient ids")
EOF

echo "== the bundled sample, 3 buckets of stomp-audit partition (--buckets), Spark local[2]"
"$bin" partition data-samples/extract --buckets 3 --out "$work/buckets" -q
"$py" scripts/spark_audit.py --master 'local[2]' --binary "$bin" \
  --buckets "$work/buckets" "${dates[@]}" --out "$work/spark"
compare "$work/single-extract" "$work/spark"

if [ $# -gt 0 ]; then
  n=$1
  echo "== $n patients, local[2]: the single machine, partition + --buckets, and --extract"
  for format in ${SPARK_FORMATS:-parquet csv}; do
    # The same extracts scripts/bench.sh generates and keeps.
    data=${BENCH_DATA:-target/bench-data}/v2-p$n
    [ "$format" = csv ] && data=$data-csv
    if [ ! -f "$data/SYNTH.txt" ]; then
      rm -rf "$data"
      mkdir -p "$(dirname "$data")"
      "$bin" synth --patients "$n" --seed 1 --format "$format" --out "$data" >"$data.txt"
      mv "$data.txt" "$data/SYNTH.txt"
    fi
    single="$work/big-single-$format"
    /usr/bin/time -f "$format, single machine (2 threads): %e s, peak %M KB" \
      "$bin" audit "$data" "${dates[@]}" --threads 2 --out "$single" -q
    if [ "$format" = parquet ]; then
      pb=${SPARK_PARTITION_BUCKETS:-4}
      /usr/bin/time -f "$format, partition ($pb buckets, one machine): %e s, peak %M KB" \
        "$bin" partition "$data" --buckets "$pb" --out "$work/big-buckets" -q
      /usr/bin/time -f "$format, then spark_audit.py --buckets: %e s, driver peak %M KB" \
        "$py" scripts/spark_audit.py --master 'local[2]' --binary "$bin" \
          --buckets "$work/big-buckets" "${dates[@]}" --out "$work/big-spark"
      compare "$single" "$work/big-spark"
      rm -rf "$work/big-buckets" "$work/big-spark"
    fi
    for b in ${SPARK_BUCKETS:-1 4 16}; do
      /usr/bin/time -f "$format, spark_audit.py --extract, $b buckets: %e s, driver peak %M KB" \
        "$py" scripts/spark_audit.py --master 'local[2]' --binary "$bin" \
          --extract "$data" --bucket-count "$b" "${dates[@]}" --out "$work/big-extract"
      compare "$single" "$work/big-extract"
      rm -rf "$work/big-extract"
    done
    if [ -n "${SPARK_ARROW:-}" ]; then
      /usr/bin/time -f "$format, spark_audit.py --extract --handoff arrow, 4 buckets: %e s, driver peak %M KB" \
        "$py" scripts/spark_audit.py --master 'local[2]' --binary "$bin" --handoff arrow \
          --extract "$data" --bucket-count 4 "${dates[@]}" --out "$work/big-extract"
      compare "$single" "$work/big-extract"
      rm -rf "$work/big-extract"
    fi
    rm -rf "$single"
  done
fi
