#!/usr/bin/env bash
# Time of `tollgate pre-receive` as a Git server runs it: real `git push`es over a
# local path into a bare copy of the history corpus (benches/build_history_corpus.sh),
# with a hook that records its own wall time (process start to exit, rules loaded and
# all). Two cases:
#
#   1. a typical push: 10 new commits, each editing one source file, on top of the
#      corpus's 6000-commit history (RUNS times, default 5; each run pushes 10 new ones);
#   2. the initial push of the whole corpus (every branch and tag) into an empty
#      repository.
#
#   benches/hook_bench.sh
#
# The time budget is raised to 10 minutes so that the figures are the scan's own; the
# default budget (tollgate.timeout, 4 s) would accept a slower push with a warning.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work="$root/benches/work"
repo="${REPO_DIR:-$work/history-repo}"
runs="${RUNS:-5}"
if [ ! -d "$repo/.git" ]; then
  REPO_DIR="$repo" "$root/benches/build_history_corpus.sh"
fi
cargo build --release --quiet
tollgate="$root/target/release/tollgate"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

install_timed_hook() { # bare repository, file the times go to
  cat >"$1/hooks/pre-receive" <<HOOK
#!/bin/sh
start=\$(date +%s%N)
"$tollgate" pre-receive
rc=\$?
end=\$(date +%s%N)
echo "\$(( (end - start) / 1000000 )) \$rc" >>"$2"
exit \$rc
HOOK
  chmod +x "$1/hooks/pre-receive"
  git -C "$1" config tollgate.timeout 600s
}

# 1. Typical pushes into the large history.
git clone -q --mirror "$repo" "$tmp/server.git"
install_timed_hook "$tmp/server.git" "$tmp/typical.ms"
git clone -q "$tmp/server.git" "$tmp/client" 2>/dev/null
git -C "$tmp/client" config user.name "Bench Pusher"
git -C "$tmp/client" config user.email "bench@example.org"
mapfile -t sources < <(git -C "$tmp/client" ls-files '*.go' '*.py' '*.ts' | head -n 200)
for run in $(seq "$runs"); do
  for c in $(seq 10); do
    f="${sources[$(((run * 10 + c) % ${#sources[@]}))]}"
    printf '// change %s.%s: retry budget raised to %s\n' "$run" "$c" "$((run * 100 + c))" >>"$tmp/client/$f"
    git -C "$tmp/client" commit -qam "bench change $run.$c"
  done
  git -C "$tmp/client" push -q origin HEAD:refs/heads/bench 2>"$tmp/typical.log" || true
done

# 2. The initial push of the whole corpus into an empty repository.
git init -q --bare "$tmp/empty.git"
install_timed_hook "$tmp/empty.git" "$tmp/initial.ms"
git -C "$repo" push "$tmp/empty.git" 'refs/heads/*:refs/heads/*' 'refs/tags/*:refs/tags/*' \
  >"$tmp/initial.log" 2>&1 || true

python3 - "$tmp" "$repo" "$runs" <<'PY'
import re, statistics, subprocess, sys
tmp, repo, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
def times(name):
    return [tuple(map(int, l.split())) for l in open(f"{tmp}/{name}.ms") if l.strip()]
commits = subprocess.run(["git", "-C", repo, "rev-list", "--all", "--count"], capture_output=True, text=True).stdout.strip()
typical = times("typical")
ms = [t for t, _ in typical]
print(f"history: {repo} ({commits} commits)")
print(f"typical push (10 new commits onto the history), {len(ms)} runs: "
      f"median {statistics.median(ms):.0f} ms, min {min(ms)} ms, max {max(ms)} ms; "
      f"accepted {sum(1 for _, rc in typical if rc == 0)}/{len(typical)}")
initial = times("initial")
log = open(f"{tmp}/initial.log").read()
found = re.search(r"push rejected: (\d+) secret", log)
for t, rc in initial:
    verdict = f"rejected, {found.group(1)} secrets reported" if rc and found else ("accepted" if rc == 0 else f"exit {rc}")
    print(f"initial push of the whole corpus ({commits} commits): {t} ms, {verdict}")
PY
