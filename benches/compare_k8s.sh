#!/usr/bin/env bash
# Side-by-side accuracy on the Kubernetes fixtures: tollgate, gitleaks, betterleaks and
# Kingfisher scan fixtures/k8s/ in one run. Every credential value planted there (and
# every posture problem: RBAC, hostPath, cluster-admin, automounted tokens) is listed
# below by file and line; a finding elsewhere is a false alarm (the fixtures also hold
# references, ciphertext, placeholders, public certificates and digests that must not be
# reported).
#
#   benches/compare_k8s.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work="$root/benches/work"
out="$work/out-k8s"
mkdir -p "$work" "$out"

# shellcheck source=benches/peers.sh
. "$root/benches/peers.sh"

cargo build --release --quiet
fixtures="$root/fixtures/k8s"
"$root/target/release/tollgate" dir "$fixtures" --format json -o "$out/tollgate.json" --no-progress >/dev/null 2>&1 || true
"$gitleaks" dir "$fixtures" --no-banner -f json -r "$out/gitleaks.json" --exit-code 0 >/dev/null 2>&1 || true
"$betterleaks" fs "$fixtures" --no-banner -s -o "$out/betterleaks.json" --exit-code 0 >/dev/null 2>&1 || true
"$kingfisher" scan "$fixtures" --no-validate --format json --output "$out/kingfisher.json" --git-history none >/dev/null 2>&1 || true

python3 - "$out" "$fixtures" <<'PY'
import json, os, sys
out, fixtures = sys.argv[1], sys.argv[2]

# (file, line) of every committed credential value.
SECRETS = {
    ("workloads/deployment.yaml", 23), ("workloads/deployment.yaml", 31),
    ("workloads/cronjob.yaml", 18), ("workloads/rollout.yaml", 17),
    ("workloads/rollout.yaml", 23), ("workloads/pod.json", 12),
    ("workloads/list.yaml", 27), ("secrets/opaque.yaml", 10), ("secrets/opaque.yaml", 13),
    ("secrets/dockerconfig.yaml", 8), ("secrets/tls.yaml", 10),
    ("config/configmap.yaml", 8), ("config/configmap.yaml", 9),
    ("config/kubeconfig.yaml", 17), ("config/kubeconfig.yaml", 24),
    ("config/azure.json", 6), ("charts/web/values.yaml", 8),
    ("charts/web/templates/deployment.yaml", 18), ("charts/web/templates/broken.yaml", 9),
    ("kustomize/kustomization.yaml", 10), ("kustomize/secrets.env", 1),
}
# (file, line) of every posture problem and committed Secret object.
POSTURE = {
    ("rbac/roles.yaml", 7), ("rbac/roles.yaml", 20), ("rbac/roles.yaml", 43),
    ("rbac/bindings.yaml", 28), ("workloads/node-agent.yaml", 30),
    ("workloads/node-agent.yaml", 34), ("workloads/node-agent.yaml", 40),
    ("workloads/node-agent.yaml", 43), ("workloads/ci-runner.yaml", 17),
    ("workloads/deployment.yaml", 17), ("secrets/opaque.yaml", 5),
    ("secrets/dockerconfig.yaml", 4), ("secrets/tls.yaml", 5),
}

def rel(p):
    return os.path.relpath(os.path.realpath(p), os.path.realpath(fixtures))

def locations(name):
    try:
        doc = json.load(open(os.path.join(out, f"{name}.json")))
    except Exception:
        return None
    if name == "tollgate":
        return [(rel(f["path"]), f["line"], bool(f.get("k8s"))) for f in doc["findings"]]
    if name == "gitleaks":
        return [(rel(f["File"]), f["StartLine"], False) for f in doc]
    if name == "betterleaks":
        return [(rel(f["location"]["path"]), f["location"]["start_line"], False) for f in doc["findings"]]
    if name == "kingfisher":
        return [(rel(f["finding"]["path"]), f["finding"]["line"], False) for f in doc["findings"]]

print(f"fixtures/k8s: {len(SECRETS)} credential values, {len(POSTURE)} posture problems / committed Secrets")
print(f"{'tool':<12} {'findings':>8} {'secrets found':>14} {'posture found':>14} {'false alarms':>13} {'with k8s context':>17}")
for name in ("tollgate", "gitleaks", "betterleaks", "kingfisher"):
    locs = locations(name)
    if locs is None:
        print(f"{name:<12} failed: see {out}")
        continue
    seen = {(p, l) for p, l, _ in locs}
    # A finding on a Secret object may be reported at its `kind` or `metadata` line:
    # posture items match within three lines.
    def near(item):
        return any(p == item[0] and abs(l - item[1]) <= 3 for p, l in seen)
    secrets = len(seen & SECRETS)
    posture = sum(1 for item in POSTURE if near(item))
    false = sorted(
        (p, l) for p, l in seen
        if (p, l) not in SECRETS
        and not any(p == q and abs(l - m) <= 3 for q, m in POSTURE)
    )
    context = sum(1 for _, _, k in locs if k)
    print(f"{name:<12} {len(locs):>8} {secrets:>8}/{len(SECRETS):<5} {posture:>8}/{len(POSTURE):<5} {len(false):>13} {context:>17}")
    for p, l in false:
        print(f"{'':<14}false alarm: {p}:{l}")
    for p, l in sorted(SECRETS - seen):
        print(f"{'':<14}missed: {p}:{l}")
PY
