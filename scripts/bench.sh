#!/usr/bin/env bash
# Times the whole CLI against DuckDB and Python polars running the same
# audit (STOMP01-STOMP05B per practice, one index date, the definitions of
# docs/indicators.md) on the same generated dm+d-coded Parquet extracts,
# checks that all three agree exactly, and
# prints wall time, rows/s and peak memory (/usr/bin/time -v) with 1 and 2
# threads, plus polars' time just to read the columns the audit needs.
# The table is also written to target/bench-results.md (bench-csv-, bench-real-
# and bench-csv-real- for the other forms), and the curve of
# the 2-thread runs (seconds against rows) to target/bench-curve.svg.
#
#   scripts/bench.sh [PATIENTS ...]      default: 100000 1000000
#   scripts/bench.sh csv [PATIENTS ...]  the same audit on CSV extracts
#   scripts/bench.sh [csv] real [PATIENTS ...]
#                                        extracts with a real one's share of
#                                        unrelated medicines (synth
#                                        --unrelated-courses 5: about one
#                                        medication row in eight related)
#   scripts/bench.sh epd [PRACTICES ...] default: 6500 (a national month)
#   scripts/bench.sh epd-months [N]      `measures` over 1, 3, 6 and 12 (or
#                                        N) national months of Parquet in
#                                        one run: how time and memory grow
#   scripts/bench.sh national [PATIENTS ...]
#                                        default: 20000000; the audit at
#                                        national scale: 6,500 practices and
#                                        8 quarter ends in one run, with
#                                        each stage's seconds (no peer: the
#                                        peers' SQL has no statistics)
#
# The csv form generates the same extracts as CSV files (what practices
# and ICBs are given) and the peers read those CSV files too.
#
# The epd form times `measures` on a synthetic EPD month (synth-epd: 2,500
# rows a practice, 16 M rows and 3.5 GB of CSV at 6,500 practices) as CSV
# and as Parquet, against DuckDB and Python polars summing four of the
# measures per practice over the same files (scripts/bench_epd_peers.py),
# and checks that they agree. Its third format, parquet-codes, is the
# Parquet month with a real month's variety of codes (--other-codes 20000:
# about 8,800 distinct BNF codes, where the others have 36).
#
# Extracts are kept in target/bench-data (BENCH_DATA to move them).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=audit
format=parquet
if [ "${1:-}" = epd ]; then mode=epd; shift; fi
if [ "${1:-}" = epd-months ]; then mode=months; shift; fi
if [ "${1:-}" = national ]; then mode=national; shift; fi
if [ "${1:-}" = csv ]; then format=csv; shift; fi
unrelated=0
if [ "${1:-}" = real ]; then unrelated=5; shift; fi
sizes=("$@")
if [ ${#sizes[@]} -eq 0 ]; then
  case $mode in
    epd) sizes=(6500) ;;
    months) sizes=(12) ;;
    national) sizes=(20000000) ;;
    *) sizes=(100000 1000000) ;;
  esac
fi
data=${BENCH_DATA:-target/bench-data}
mkdir -p "$data"
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

# out FORMAT ARGS...: a line of the form's table, to the screen and to
# the form's $results file.
out() { printf "$@" | tee -a "$results"; }

# synth_once DIR CMD...: writes an extract with CMD --out DIR unless DIR
# holds the SYNTH.txt of an earlier run (CMD's report of what it wrote).
synth_once() {
  local dir=$1; shift
  if [ ! -f "$dir/SYNTH.txt" ]; then
    rm -rf "$dir"
    "$@" --out "$dir" >"$dir.txt"
    mv "$dir.txt" "$dir/SYNTH.txt"
  fi
}

# extract_rows DIR PATIENTS: patients + registrations + medication issues +
# clinical events of a synth extract, from its SYNTH.txt.
extract_rows() {
  local rows
  rows=$(grep -o '[0-9]* registrations, [0-9]* medication issues, [0-9]* clinical events' "$1/SYNTH.txt" \
    | awk '{print $1 + $3 + $6}')
  echo $((rows + $2))
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

# Our measures.csv in the EPD peers' per-practice layout.
ours_as_epd_peers() {
  "$py" - "$1" "$2" <<'EOF'
import csv, sys
rows = {}
for r in csv.DictReader(open(sys.argv[1])):
    if r["level"] == "practice" and r["measure_id"] in ("EPD01", "EPD02", "EPD03", "EPD04"):
        rows.setdefault(r["unit_code"], {})[r["measure_id"]] = (float(r["numerator"]), float(r["denominator"]))
with open(sys.argv[2], "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["practice_code", "EPD01_num", "EPD02_num", "EPD03_num", "EPD04_num", "list_size"])
    for code in sorted(rows):
        m = rows[code]
        w.writerow([code, f"{m['EPD01'][0]:.0f}", f"{m['EPD02'][0]:.2f}", f"{m['EPD03'][0]:.0f}",
                    f"{m['EPD04'][0]:.0f}", f"{m['EPD01'][1]:.0f}"])
EOF
}

if [ $mode = epd ]; then
  results=target/bench-epd-results.md
  : >"$results"
  out '\n| practices | rows | format | threads | engine | seconds | rows/s | peak MiB | same sums |\n|---:|---:|---|---:|---|---:|---:|---:|---|\n'
  for n in "${sizes[@]}"; do
    for form in csv parquet parquet-codes; do
      dir="$data/epd-p$n-$form"
      format=${form%-codes}
      codes=12
      if [ "$form" = parquet-codes ]; then codes=20000; fi
      synth_once "$dir" "$bin" synth-epd --practices "$n" --format "$format" --other-codes $codes
      rows=$(awk 'NR==1 {print $2}' "$dir/SYNTH.txt")
      epd=$(ls "$dir"/epd_*."$format")
      lists=$(ls "$dir"/list_sizes_*.csv)
      for threads in 1 2; do
        measure stomp "$bin" measures --epd "$epd" --list-sizes "$lists" --practices "$dir/practices.csv" \
          --national --threads "$threads" --out "$work/epd" --quiet --force
        ours_as_epd_peers "$work/epd/measures.csv" "$work/stomp-epd.csv"
        out '| %s | %s | %s | %s | stomp-audit | %.2f | %.0f | %s | reference |\n' "$n" "$rows" "$form" "$threads" "$SECS" "$(echo "$rows / $SECS" | bc -l)" "$RSS_MB"
        if [ "$format" = parquet ]; then
          # The same run decoding every row (no predicate pushdown).
          measure stomp "$bin" measures --epd "$epd" --list-sizes "$lists" --practices "$dir/practices.csv" \
            --national --threads "$threads" --out "$work/epd-all" --quiet --force --no-pushdown
          same=$(cmp -s "$work/epd/measures.csv" "$work/epd-all/measures.csv" && echo yes || echo NO)
          out '| %s | %s | %s | %s | stomp-audit --no-pushdown | %.2f | %.0f | %s | %s |\n' "$n" "$rows" "$form" "$threads" "$SECS" "$(echo "$rows / $SECS" | bc -l)" "$RSS_MB" "$same"
        fi
        for engine in duckdb polars; do
          measure "$engine" "$py" scripts/bench_epd_peers.py "$engine" "$epd" "$lists" "$work/$engine-epd.csv" "$threads"
          same=$(cmp -s "$work/stomp-epd.csv" "$work/$engine-epd.csv" && echo yes || echo "NO (see $work/$engine-epd.csv)")
          out '| %s | %s | %s | %s | %s | %.2f | %.0f | %s | %s |\n' "$n" "$rows" "$form" "$threads" "$engine" "$SECS" "$(echo "$rows / $SECS" | bc -l)" "$RSS_MB" "$same"
          if [ "${same:0:3}" != yes ]; then diff "$work/stomp-epd.csv" "$work/$engine-epd.csv" | head -5 >&2; trap - EXIT; fi
        done
      done
    done
  done
  echo "table: $results"
  exit 0
fi

if [ $mode = months ]; then
  # National months of Parquet, April to March (synth-epd, a seed per
  # month), and one `measures` run over the first 1, 3, 6, ... of them.
  results=target/bench-epd-months-results.md
  : >"$results"
  max=${sizes[0]}
  epds=(); lists=()
  for k in $(seq 0 $((max - 1))); do
    month=$(date -d "2023-04-01 +$k month" +%Y-%m)
    dir="$data/epd-p6500-parquet-$month"
    synth_once "$dir" "$bin" synth-epd --practices 6500 --format parquet --month "$month" --seed $((k + 1))
    epds+=("$(ls "$dir"/epd_*.parquet)")
    lists+=("$(ls "$dir"/list_sizes_*.csv)")
  done
  out '\n| months | rows | threads | seconds | rows/s | seconds a month | peak MiB |\n|---:|---:|---:|---:|---:|---:|---:|\n'
  for m in $(printf '%s\n' 1 3 6 12 "$max" | awk -v max="$max" '$1 <= max' | sort -n | uniq); do
    rows=0
    for k in $(seq 0 $((m - 1))); do
      rows=$((rows + $(awk 'NR==1 {print $2}' "$(dirname "${epds[$k]}")/SYNTH.txt")))
    done
    measure stomp "$bin" measures --epd "${epds[@]:0:$m}" --list-sizes "${lists[@]:0:$m}" --national --threads 2 \
      --out "$work/months" --quiet --force
    out '| %s | %s | 2 | %.2f | %.0f | %.2f | %s |\n' "$m" "$rows" "$SECS" "$(echo "$rows / $SECS" | bc -l)" "$(echo "$SECS / $m" | bc -l)" "$RSS_MB"
  done
  echo "table: $results"
  exit 0
fi

if [ $mode = national ]; then
  # Synthetic extracts over England's 6,500 practices, audited at the 8
  # quarter ends 2022Q2..2024Q1 in one run (2.17 M aggregate rows).
  results=target/bench-national-results.md
  : >"$results"
  out '\n| patients | rows | index dates | threads | seconds | rows/s | peak MiB | population | clinical events | medications | evaluate | aggregate | outputs |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
  for n in "${sizes[@]}"; do
    dir="$data/national-p$n-6500"
    synth_once "$dir" "$bin" synth --patients "$n" --practices 6500 --seed 1 --format parquet
    rows=$(extract_rows "$dir" "$n")
    for threads in 1 2; do
      measure stomp "$bin" audit "$dir" --quarters 2022Q2..2024Q1 --national --out "$work/national" --threads "$threads" --quiet --force
      # Each stage's seconds from the run's summary; the rest is writing the outputs.
      stages=$("$py" - "$work/national/summary.json" "$SECS" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))["timings_seconds"]
names = ["population", "clinical_events", "medications", "evaluate", "aggregate"]
rest = float(sys.argv[2]) - sum(t.get(k, 0) for k in names)
print(" | ".join(f"{t.get(k, 0):.1f}" for k in names) + f" | {rest:.1f}")
EOF
)
      out '| %s | %s | 8 | %s | %.2f | %.0f | %s | %s |\n' "$n" "$rows" "$threads" "$SECS" "$(echo "$rows / $SECS" | bc -l)" "$RSS_MB" "$stages"
    done
  done
  echo "table: $results"
  exit 0
fi

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
if [ $format = csv ]; then results=target/bench-csv; else results=target/bench; fi
if [ $unrelated != 0 ]; then results=$results-real; fi
results=$results-results.md
: >"$results"
out '\n| patients | rows | format | threads | engine | seconds | rows/s | peak MiB | same counts |\n|---:|---:|---|---:|---|---:|---:|---:|---|\n'
for n in "${sizes[@]}"; do
  # v2: dm+d-coded extracts (synth since the drug dictionary)
  dir="$data/v2-p$n"
  if [ $format = csv ]; then dir="$dir-csv"; fi
  if [ $unrelated != 0 ]; then dir="$dir-real"; fi
  synth_once "$dir" "$bin" synth --patients "$n" --seed 1 --format $format --unrelated-courses $unrelated
  rows=$(extract_rows "$dir" "$n")
  for threads in 1 2; do
    measure stomp "$bin" audit "$dir" --index-date $T --out "$work/stomp" --threads "$threads" --quiet --force
    ours_as_peers "$work/stomp/indicators.csv" "$work/stomp.csv"
    out '| %s | %s | %s | %s | stomp-audit | %.2f | %.0f | %s | reference |\n' "$n" "$rows" $format "$threads" "$SECS" "$(echo "$rows / $SECS" | bc -l)" "$RSS_MB"
    if [ $format = parquet ]; then
      # The same run reading every row (no predicate pushdown).
      measure stomp "$bin" audit "$dir" --index-date $T --out "$work/stomp-all" --threads "$threads" --quiet --force --no-pushdown
      ours_as_peers "$work/stomp-all/indicators.csv" "$work/stomp-all.csv"
      same=$(cmp -s "$work/stomp.csv" "$work/stomp-all.csv" && echo yes || echo NO)
      out '| %s | %s | %s | %s | stomp-audit --no-pushdown | %.2f | %.0f | %s | %s |\n' "$n" "$rows" $format "$threads" "$SECS" "$(echo "$rows / $SECS" | bc -l)" "$RSS_MB" "$same"
    fi
    for engine in duckdb polars; do
      measure "$engine" "$py" scripts/bench_peers.py "$engine" "$dir" $T "$work/$engine.csv" "$threads" "$work/codes.csv"
      same=$(cmp -s "$work/stomp.csv" "$work/$engine.csv" && echo yes || echo "NO (see $work/$engine.csv)")
      out '| %s | %s | %s | %s | %s | %.2f | %.0f | %s | %s |\n' "$n" "$rows" $format "$threads" "$engine" "$SECS" "$(echo "$rows / $SECS" | bc -l)" "$RSS_MB" "$same"
      if [ "${same:0:3}" != yes ]; then diff "$work/stomp.csv" "$work/$engine.csv" | head -5 >&2; trap - EXIT; fi
    done
    if [ $format = parquet ]; then
      measure floor "$py" "$work/floor.py" "$dir" "$threads"
      out '| %s | %s | %s | %s | polars read only (decode floor) | %.2f | %.0f | %s | - |\n' "$n" "$rows" $format "$threads" "$SECS" "$(echo "$rows / $SECS" | bc -l)" "$RSS_MB"
    fi
  done
done
if [ $format = parquet ]; then
  curve=${results%-results.md}-curve.svg
  python3 scripts/bench_plot.py "$results" "$curve" 2
  echo "table: $results; curve (2 threads): $curve"
else
  echo "table: $results"
fi
