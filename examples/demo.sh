#!/usr/bin/env bash
# The seed's story in three runs, on embedded defaults (local scheduler, local files):
#   1. dumps for the last 23 days, except one: the aggregations that need the
#      missing day wait, and the summary says which data is missing;
#   2. the missing dump arrives: only the newly possible aggregations run;
#   3. nothing left to do: the run exits 0 at once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${1:-$here/../data/demo}
end=$(python -c 'import datetime; print(datetime.date.today())')
missing=$(python -c 'import datetime; print(datetime.date.today() - datetime.timedelta(days=4))')
rm -rf "$root"

run() { python "$here/daily_aggregation.py" --local-scheduler --log-level INFO --paths-root "$root" --date "$end"; }

echo "== run 1: every dump but $missing is there"
python "$here/make_dumps.py" --root "$root" --end "$end" --skip "$missing"
run
echo "== run 2: the dump for $missing arrives"
python "$here/make_dumps.py" --root "$root" --end "$end"
run
echo "== run 3: nothing left to do"
time run
echo "results in $root/aggregated/"
