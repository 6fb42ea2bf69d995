#!/usr/bin/env python3
"""Write seed inputs for every fuzz target into fuzz/seeds/<target>/ from the repo's
fixtures and the rule pack's examples. The committed corpora (fuzz/corpus/) started from
these, then were grown by fuzzing and minimised with `cargo fuzz cmin`."""
import hashlib
import json
import os
import pathlib

import yaml

FUZZ = pathlib.Path(__file__).resolve().parent
REPO = FUZZ.parent
OUT = FUZZ / "seeds"

# Must match PATHS in fuzz_targets/k8s_manifest.rs: the first byte picks the path.
K8S_PATHS = ["deploy/app.yaml", "chart/values.yaml", "home/.kube/config",
             "etc/kubernetes/azure.json", "chart/templates/deployment.yaml",
             "base/kustomization.yaml", "manifest.json"]


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def k8s_selector(path):
    name = path.name.lower()
    if name == "azure.json":
        return 3
    if "kubeconfig" in name:
        return 2
    if name.startswith("values"):
        return 1
    if "templates" in path.parts:
        return 4
    if name.startswith("kustomization"):
        return 5
    if name.endswith(".json"):
        return 6
    return 0


for f in sorted((REPO / "fixtures").rglob("*")):
    if not f.is_file() or f.stat().st_size > 64 * 1024:
        continue
    data = f.read_bytes()
    put("engine", data)
    if f.suffix in (".yaml", ".yml", ".json") or "kube" in f.name:
        put("k8s_manifest", bytes([k8s_selector(f)]) + data)

for f in sorted((REPO / "patterns").glob("*.yaml")):
    text = f.read_text()
    put("rule_file", text)
    for rule in yaml.safe_load(text).get("rules", []):
        for example in rule.get("examples", []) + rule.get("negative_examples", []):
            put("engine", example)
        # One rule alone: small inputs mutate better than whole files.
        put("rule_file", yaml.safe_dump({"rules": [rule]}, sort_keys=False))

put("repo_config", """version: 1
rules: [.tollgate/rules]
disable-rules: [generic.cli-option]
enable-rules: [k8s.env-secret-ref]
min-confidence: medium
max-file-size: 5M
allow-paths:
  - tests/fixtures/
  - /docs
  - "*.snap"
  - ./vendor/**/gen
allow-secrets: ["^sk_test_"]
rule-settings:
  generic.key-value:
    allow: ["^dev-"]
    min-entropy: 3.5
baseline: .tollgate-baseline.json
""")
put("repo_config", "version: 1\n")
put("repo_config", "allow-paths: ['[a-', '**/x/**', '\\\\']\nmax-file-size: 10K\n")

zero, a, b = "0" * 40, "a" * 40, "b" * 40
put("hook_stdin", f"{zero} {a} refs/heads/main\n")
put("hook_stdin", f"{a} {b} refs/heads/main\n{b} {zero} refs/tags/v1\n\n")
put("hook_stdin", f"{'0' * 64} {'c' * 64} refs/heads/sha256\r\n")
put("hook_stdin", f"{a} {b}\n")

entry = {"path": "config/.env", "rule_id": "github.pat",
         "fingerprint": "0123456789abcdef0123456789abcdef"}
put("baseline", json.dumps({"version": 1, "tool": "tollgate 0.1.0", "findings": [entry]}, indent=2))
put("baseline", json.dumps({"version": 1, "tool": "t", "findings": []}))
put("baseline", json.dumps({"version": 2, "tool": "t", "findings": [entry, entry]}))

put("reports", bytes(range(256)))
put("reports", b"\x02" + b"\x1b[2J\x07\xc2\x9b" * 40)
