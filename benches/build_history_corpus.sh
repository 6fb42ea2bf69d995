#!/usr/bin/env bash
# Build the git-history corpus for benches/compare_git.sh: a synthetic monorepo with
# COMMITS commits (Go/Python/TS/JS/Rust services, Kubernetes manifests, Helm charts,
# lockfiles, a few binaries, merged feature branches, a branch never merged, tags, one
# commit reachable only from a tag) and ~40 planted credentials, most of them removed a
# few commits later. The history comes from one `git fast-import` stream written by
# benches/history_corpus.py with a fixed seed and fixed dates, so the commit ids are the
# same on every run. The planted credentials (kind, path, line, introducing commit) are
# listed in $REPO_DIR.planted.json.
#
#   benches/build_history_corpus.sh                 # benches/work/history-repo, 6000 commits
#   COMMITS=1500 REPO_DIR=/tmp/h benches/build_history_corpus.sh
#
# An existing repository at REPO_DIR is replaced.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
repo="${REPO_DIR:-$root/benches/work/history-repo}"
commits="${COMMITS:-6000}"
seed="${SEED:-20240611}"
manifest="$repo.planted.json"

start=$(date +%s.%N)
rm -rf "$repo" "$manifest"
mkdir -p "$(dirname "$repo")"
python3 "$root/benches/history_corpus.py" --repo "$repo" --manifest "$manifest" \
  --commits "$commits" --seed "$seed"
generated=$(date +%s.%N)
git -C "$repo" repack -adf -q --window=50 --depth=50
git -C "$repo" prune-packed
git -C "$repo" reset -q --hard main
git -C "$repo" gc -q --prune=now
end=$(date +%s.%N)

pack_bytes=$(cat "$repo"/.git/objects/pack/*.pack | wc -c)
read -r blobs blob_bytes < <(git -C "$repo" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' |
  awk '$1 == "blob" { n++; s += $2 } END { print n, s }')
printf 'history corpus: %s\n' "$repo"
printf '  commits      %s (%s reachable from all refs)\n' \
  "$(git -C "$repo" cat-file --batch-all-objects --batch-check='%(objecttype)' | grep -c '^commit$')" \
  "$(git -C "$repo" rev-list --all --count)"
printf '  refs         %s (%s)\n' "$(git -C "$repo" for-each-ref | wc -l)" \
  "$(git -C "$repo" for-each-ref --format='%(refname:short)' | paste -sd ' ' -)"
printf '  HEAD files   %s\n' "$(git -C "$repo" ls-tree -r HEAD | wc -l)"
printf '  pack         %.1f MB\n' "$(echo "$pack_bytes / 1000000" | bc -l)"
printf '  unique blobs %s, %.1f MB\n' "$blobs" "$(echo "$blob_bytes / 1000000" | bc -l)"
printf '  planted      %s secrets (%s still at HEAD) -> %s\n' \
  "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["planted"]))' "$manifest")" \
  "$(python3 -c 'import json,sys; print(sum(e["at_head"] for e in json.load(open(sys.argv[1]))["planted"]))' "$manifest")" \
  "$manifest"
printf '  head commit  %s\n' "$(git -C "$repo" rev-parse HEAD)"
printf '  built in     %.1f s (fast-import stream %.1f s, repack and checkout %.1f s)\n' \
  "$(echo "$end - $start" | bc -l)" "$(echo "$generated - $start" | bc -l)" "$(echo "$end - $generated" | bc -l)"
