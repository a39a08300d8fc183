#!/usr/bin/env bash
# Times the whole CLI against DuckDB and Python polars running the same
# audit (STOMP01-STOMP05B per practice, one index date, the definitions of
# docs/indicators.md) on the same generated dm+d-coded Parquet extracts,
# checks that all three agree exactly, and
# prints wall time, rows/s and peak memory (/usr/bin/time -v) with 1 and 2
# threads, plus polars' time just to read the columns the audit needs.
# The table is also written to target/bench-results.md, and the curve of
# the 2-thread runs (seconds against rows) to target/bench-curve.svg.
#
#   scripts/bench.sh [PATIENTS ...]      default: 100000 1000000
#
# Extracts are kept in target/bench-data (BENCH_DATA to move them).
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
data=${BENCH_DATA:-target/bench-data}
venv=target/bench-venv
T=2024-03-31

cargo build --release --quiet
bin=target/release/stomp-audit
if [ ! -x /usr/bin/time ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q duckdb==2.0.0 polars==2.1.0
fi
py="$venv/bin/python"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The dm+d-to-class table the peers read, as an analyst would read a codelist.
"$bin" codes --out "$work/codes.csv"

# measure NAME CMD...: runs CMD under /usr/bin/time -v; sets SECS and RSS_MB.
measure() {
  local name=$1; shift
  /usr/bin/time -v "$@" >"$work/$name.out" 2>"$work/$name.time" || {
    cat "$work/$name.out" "$work/$name.time" >&2; return 1; }
  SECS=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/$name.time")
  RSS_MB=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$work/$name.time")
}

# Our indicators.csv in the peers' per-practice layout.
ours_as_peers() {
  "$py" - "$1" "$2" <<'EOF'
import csv, sys
ids = ["STOMP01", "STOMP02", "STOMP03", "STOMP03B", "STOMP04", "STOMP04B", "STOMP05", "STOMP05B"]
rows = {}
for r in csv.DictReader(open(sys.argv[1])):
    if r["level"] == "practice" and r["indicator_id"] in ids:
        rows.setdefault(r["unit_code"], {})[r["indicator_id"]] = (r["numerator"], r["denominator"])
with open(sys.argv[2], "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["practice_code"] + [f"{i}_{k}" for i in ids for k in ["num", "den"]])
    for code in sorted(rows):
        # Practices with nobody registered at T are absent from the peers' output.
        if rows[code]["STOMP01"][1] == "0":
            continue
        w.writerow([code] + [v for i in ids for v in rows[code][i]])
EOF
}

cat >"$work/floor.py" <<'EOF'
import os, sys
os.environ["POLARS_MAX_THREADS"] = sys.argv[2]
import polars as pl
cols = {"patients": ["patient_id", "date_of_birth", "sex", "date_of_death"],
        "registrations": ["patient_id", "practice_code", "start_date", "end_date"],
        "clinical_events": ["patient_id", "date", "snomedct_code"],
        "medications": ["patient_id", "date", "dmd_code", "bnf_code", "quantity"]}
# Decoded batch by batch and dropped, as a streaming engine would consume them.
for t, c in cols.items():
    for _ in pl.scan_parquet(os.path.join(sys.argv[1], f"{t}.parquet")).select(c).collect_batches():
        pass
EOF

# The table goes to the screen and to $results; the curve is drawn from it.
results=target/bench-results.md
: >"$results"
out() { printf "$@" | tee -a "$results"; }
out '\n| patients | rows | threads | engine | seconds | rows/s | peak MiB | same counts |\n|---:|---:|---:|---|---:|---:|---:|---|\n'
for n in "${sizes[@]}"; do
  # v2: dm+d-coded extracts (synth since the drug dictionary)
  dir="$data/v2-p$n"
  if [ ! -f "$dir/SYNTH.txt" ]; then
    mkdir -p "$dir"
    "$bin" synth --patients "$n" --seed 1 --format parquet --out "$dir" >"$dir/SYNTH.txt"
  fi
  rows=$(grep -o '[0-9]* registrations, [0-9]* medication issues, [0-9]* clinical events' "$dir/SYNTH.txt" \
    | awk '{print $1 + $3 + $6}')
  rows=$((rows + n))
  for threads in 1 2; do
    measure stomp "$bin" audit "$dir" --index-date $T --out "$work/stomp" --threads "$threads" --quiet --force
    ours_as_peers "$work/stomp/indicators.csv" "$work/stomp.csv"
    out '| %s | %s | %s | stomp-audit | %.2f | %.0f | %s | reference |\n' "$n" "$rows" "$threads" "$SECS" "$(echo "$rows / $SECS" | bc -l)" "$RSS_MB"
    for engine in duckdb polars; do
      measure "$engine" "$py" scripts/bench_peers.py "$engine" "$dir" $T "$work/$engine.csv" "$threads" "$work/codes.csv"
      same=$(cmp -s "$work/stomp.csv" "$work/$engine.csv" && echo yes || echo "NO (see $work/$engine.csv)")
      out '| %s | %s | %s | %s | %.2f | %.0f | %s | %s |\n' "$n" "$rows" "$threads" "$engine" "$SECS" "$(echo "$rows / $SECS" | bc -l)" "$RSS_MB" "$same"
      if [ "${same:0:3}" != yes ]; then diff "$work/stomp.csv" "$work/$engine.csv" | head -5 >&2; trap - EXIT; fi
    done
    measure floor "$py" "$work/floor.py" "$dir" "$threads"
    out '| %s | %s | %s | polars read only (decode floor) | %.2f | %.0f | %s | - |\n' "$n" "$rows" "$threads" "$SECS" "$(echo "$rows / $SECS" | bc -l)" "$RSS_MB"
  done
done
python3 scripts/bench_plot.py "$results" target/bench-curve.svg 2
echo "table: $results; curve (2 threads): target/bench-curve.svg"
