//! Kubernetes context and credential-access checks, through the real CLI over
//! `fixtures/k8s/`: every finding's rule, place, `k8s` context and technique, and nothing
//! from the manifests that hold no credential.

mod common;

use common::{tollgate, Repo};
use serde_json::Value;

fn scan(args: &[&str]) -> Vec<Value> {
    let out = tollgate()
        .args(["dir", "fixtures/k8s", "--format", "json"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["findings"].as_array().unwrap().clone()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("-")
}

/// `rule path:line kind ns/name container env field technique`, one per finding.
fn summarize(findings: &[Value]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            let k = &f["k8s"];
            format!(
                "{} {}:{} {} {}/{} {} {} {} {}",
                s(&f["rule_id"]),
                s(&f["path"]).trim_start_matches("fixtures/k8s/"),
                f["line"],
                s(&k["kind"]),
                s(&k["namespace"]),
                s(&k["name"]),
                s(&k["container"]),
                s(&k["env"]),
                s(&k["field"]),
                s(&k["technique"]["id"]),
            )
        })
        .collect()
}

const EXPECTED: &[&str] = &[
    "github.pat-classic charts/web/templates/broken.yaml:9 ConfigMap web/web-scripts - - - MS-TA9027",
    "k8s.env-literal charts/web/templates/deployment.yaml:18 Deployment -/{{ include \"web.fullname\" . }} web SENTRY_AUTH_TOKEN spec.template.spec.containers[0].env[1].value MS-TA9027",
    "k8s.config-credential charts/web/values.yaml:8 - -/- - - postgresql.auth.password MS-TA9027",
    "azure.client-secret config/azure.json:6 - -/- - - aadClientSecret MS-TA9027",
    "connstring.postgres config/configmap.yaml:8 ConfigMap orders/orders-config - - data.DATABASE_URL MS-TA9027",
    "k8s.configmap-credential config/configmap.yaml:9 ConfigMap orders/orders-config - - data.CACHE_PASSWORD MS-TA9027",
    "credfiles.kubeconfig-user-token config/kubeconfig.yaml:17 Config -/- - - users[0].user.token MS-TA9027",
    "k8s.kubeconfig-credential config/kubeconfig.yaml:24 Config -/- - - users[1].user.auth-provider.config.client-secret MS-TA9027",
    "k8s.kustomize-literal kustomize/kustomization.yaml:10 Kustomization -/- - - secretGenerator[0].literals[1] MS-TA9027",
    "stripe.secret-key kustomize/secrets.env:1 Secret billing/billing-db - - - MS-TA9027",
    "k8s.cluster-admin-binding rbac/bindings.yaml:28 ClusterRoleBinding -/ci-deployer-admin - - roleRef.name MS-TA9016",
    "k8s.rbac-secrets-access rbac/roles.yaml:7 ClusterRole -/secret-reader - - rules[0] MS-TA9025",
    "k8s.rbac-secrets-access rbac/roles.yaml:20 Role ops/ops-everything - - rules[0] MS-TA9025",
    "k8s.rbac-secrets-access rbac/roles.yaml:43 Role shop/tls-reader - - rules[0] MS-TA9025",
    "k8s.secret-committed secrets/dockerconfig.yaml:4 Secret ci/regcred - - - MS-TA9027",
    "docker.config-auth secrets/dockerconfig.yaml:8 Secret ci/regcred - - data[\".dockerconfigjson\"] MS-TA9027",
    "k8s.secret-committed secrets/opaque.yaml:5 Secret orders/orders-db - - - MS-TA9027",
    "k8s.secret-value secrets/opaque.yaml:10 Secret orders/orders-db - - data.password MS-TA9027",
    "k8s.secret-value secrets/opaque.yaml:13 Secret orders/orders-db - - stringData.JWT_SECRET MS-TA9027",
    "k8s.secret-committed secrets/tls.yaml:5 Secret shop/shop-tls - - - MS-TA9027",
    "privatekey.rsa secrets/tls.yaml:10 Secret shop/shop-tls - - data[\"tls.key\"] MS-TA9027",
    "k8s.sa-token-automount workloads/ci-runner.yaml:17 Deployment ci/ci-runner - - spec.template.spec.serviceAccountName MS-TA9016",
    "k8s.env-literal workloads/cronjob.yaml:18 CronJob data/nightly-backup pg-dump PGPASSWORD spec.jobTemplate.spec.template.spec.containers[0].env[0].value MS-TA9027",
    "k8s.sa-token-automount workloads/deployment.yaml:17 Deployment payments/payments-api - - spec.template.spec.serviceAccountName MS-TA9016",
    "github.pat-classic workloads/deployment.yaml:23 Deployment payments/payments-api fetch-plugins GITHUB_TOKEN spec.template.spec.initContainers[0].env[0].value MS-TA9027",
    "k8s.env-literal workloads/deployment.yaml:31 Deployment payments/payments-api api DB_PASSWORD spec.template.spec.containers[0].env[1].value MS-TA9027",
    "k8s.env-literal workloads/list.yaml:27 StatefulSet shop/search opensearch OPENSEARCH_INITIAL_ADMIN_PASSWORD spec.template.spec.containers[0].env[0].value MS-TA9027",
    "k8s.hostpath-credentials workloads/node-agent.yaml:30 DaemonSet kube-system/node-agent agent - spec.template.spec.volumes[0].hostPath.path MS-TA9026",
    "k8s.hostpath-credentials workloads/node-agent.yaml:34 DaemonSet kube-system/node-agent agent - spec.template.spec.volumes[1].hostPath.path MS-TA9026",
    "k8s.hostpath-credentials workloads/node-agent.yaml:40 DaemonSet kube-system/node-agent backup - spec.template.spec.volumes[3].hostPath.path MS-TA9026",
    "k8s.hostpath-credentials workloads/node-agent.yaml:43 DaemonSet kube-system/node-agent backup - spec.template.spec.volumes[4].hostPath.path MS-TA9026",
    "k8s.env-literal workloads/pod.json:12 Pod ops/toolbox shell OPS_PASSWORD spec.containers[0].env[1].value MS-TA9027",
    "npm.access-token workloads/rollout.yaml:17 Rollout shop/checkout web NPM_TOKEN spec.template.spec.containers[0].env[0].value MS-TA9027",
    "k8s.env-literal workloads/rollout.yaml:23 Rollout shop/checkout debugger ADMIN_API_KEY spec.template.spec.ephemeralContainers[0].env[0].value MS-TA9027",
];

#[test]
fn every_manifest_finding_has_its_exact_context_and_technique() {
    let got = summarize(&scan(&[]));
    let expected: Vec<String> = EXPECTED.iter().map(|e| e.to_string()).collect();
    for line in &expected {
        assert!(
            got.contains(line),
            "missing: {line}\n\ngot:\n{}",
            got.join("\n")
        );
    }
    for line in &got {
        assert!(expected.contains(line), "unexpected: {line}");
    }
}

#[test]
fn references_ciphertext_and_placeholders_are_not_reported() {
    let findings = scan(&[]);
    for f in &findings {
        let path = s(&f["path"]);
        assert!(!path.ends_with("not-secrets.yaml"), "{f}");
        let snippet = s(&f["snippet"]);
        for never in [
            "vault:",
            "$(",
            "${",
            "_FILE",
            "secretKeyRef",
            "sha256:",
            "checksum/",
            "ca.crt",
            "existingSecret",
        ] {
            assert!(!snippet.contains(never), "{never} reported: {f}");
        }
    }
    // The certificate in the TLS Secret and the kubeconfig's CA are public.
    assert!(!findings
        .iter()
        .any(|f| s(&f["k8s"]["field"]).contains("crt")
            || s(&f["k8s"]["field"]).contains("certificate-authority")));
}

#[test]
fn posture_findings_say_what_they_grant_and_to_whom() {
    let findings = scan(&[]);
    let reader = findings
        .iter()
        .find(|f| f["rule_id"] == "k8s.rbac-secrets-access" && f["k8s"]["name"] == "secret-reader")
        .unwrap();
    assert_eq!(reader["confidence"], "high");
    assert_eq!(reader["secret"], "");
    assert_eq!(reader["k8s"]["technique"]["mitre"], "T1552.007");
    assert!(s(&reader["k8s"]["detail"]).contains("get, list, watch on secrets"));
    assert_eq!(
        reader["k8s"]["subjects"],
        serde_json::json!([
            "ServiceAccount payments/payments-api (via ClusterRoleBinding payments-read-secrets)"
        ])
    );
    let tls = findings
        .iter()
        .find(|f| f["k8s"]["name"] == "tls-reader")
        .unwrap();
    assert_eq!(tls["confidence"], "low", "resourceNames narrows the grant");

    let admin = findings
        .iter()
        .find(|f| f["rule_id"] == "k8s.cluster-admin-binding")
        .unwrap();
    assert_eq!(
        admin["k8s"]["subjects"],
        serde_json::json!(["ServiceAccount ci/deployer", "Group platform-admins"])
    );
    let runner = findings
        .iter()
        .find(|f| f["rule_id"] == "k8s.sa-token-automount" && f["k8s"]["name"] == "ci-runner")
        .unwrap();
    assert_eq!(runner["confidence"], "high");
    assert!(s(&runner["k8s"]["detail"]).contains("cluster-admin"));
    // The Job that opts out of the token is not reported; nor is the account bound only
    // to a role without secrets.
    assert!(!findings
        .iter()
        .any(|f| f["k8s"]["name"] == "ci-lint" || f["k8s"]["name"] == "reporting"));

    let root = findings
        .iter()
        .find(|f| {
            f["rule_id"] == "k8s.hostpath-credentials" && s(&f["snippet"]).ends_with("path: /")
        })
        .unwrap();
    assert!(s(&root["k8s"]["detail"]).contains("root filesystem"));
    assert!(!findings
        .iter()
        .any(|f| s(&f["snippet"]).contains("/var/log") || s(&f["snippet"]).contains("/etc/ssl")));
}

#[test]
fn secret_values_are_decoded_and_redacted() {
    let findings = scan(&[]);
    let password = findings
        .iter()
        .find(|f| f["rule_id"] == "k8s.secret-value" && f["k8s"]["field"] == "data.password")
        .unwrap();
    assert_eq!(password["decoded"], serde_json::json!(["base64"]));
    assert_eq!(password["secret"], "Wm3$…");
    let shown = scan(&["--no-redact"]);
    let password = shown
        .iter()
        .find(|f| f["rule_id"] == "k8s.secret-value" && f["k8s"]["field"] == "data.password")
        .unwrap();
    assert_eq!(password["secret"], "Wm3$kR8!pZ2qT6vN");
    let committed = findings
        .iter()
        .find(|f| f["rule_id"] == "k8s.secret-committed" && f["k8s"]["name"] == "orders-db")
        .unwrap();
    assert_eq!(committed["k8s"]["detail"], "2 credential values committed");
}

#[test]
fn checks_are_rules_that_can_be_selected() {
    let all = scan(&[]);
    let without = scan(&["--disable-rule", "k8s.hostpath-credentials"]);
    assert_eq!(
        all.len() - without.len(),
        all.iter()
            .filter(|f| f["rule_id"] == "k8s.hostpath-credentials")
            .count()
    );
    let only = scan(&["--only-rule", "k8s.rbac-secrets-access"]);
    assert_eq!(only.len(), 3);
    assert!(only
        .iter()
        .all(|f| f["rule_id"] == "k8s.rbac-secrets-access"));

    // Off by default: secrets consumed through env vars.
    assert!(!all.iter().any(|f| f["rule_id"] == "k8s.env-secret-ref"));
    let refs = scan(&["--enable-rule", "k8s.env-secret-ref"]);
    let refs: Vec<_> = refs
        .iter()
        .filter(|f| f["rule_id"] == "k8s.env-secret-ref")
        .collect();
    assert_eq!(refs.len(), 2, "{refs:?}");
    assert_eq!(refs[0]["confidence"], "low");
    assert_eq!(refs[0]["k8s"]["env"], "API_TOKEN");

    let listed = tollgate().args(["rules", "list"]).output().unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    for id in [
        "k8s.rbac-secrets-access",
        "k8s.hostpath-credentials",
        "k8s.env-secret-ref",
    ] {
        assert!(listed.contains(id), "{id} not listed");
    }
    let bad = tollgate()
        .args(["dir", "fixtures/k8s", "--enable-rule", "github.pat-classic"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn human_output_shows_where_in_the_cluster() {
    let out = tollgate()
        .args(["dir", "fixtures/k8s/workloads/deployment.yaml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("in Deployment payments/payments-api, container api, env DB_PASSWORD (spec.template.spec.containers[0].env[1].value)"),
        "{text}"
    );
    assert!(text.contains(
        "technique: MS-TA9027 Application credentials in configuration files (ATT&CK T1552)"
    ));
    assert!(!text.contains("Vq7#tLp2!rWz9sKd"), "secret leaked: {text}");
}

#[test]
fn malformed_manifests_never_stop_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let token = common::github_token();
    std::fs::write(
        dir.path().join("a-broken.yaml"),
        "apiVersion: v1\nkind: Pod\nspec: [\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b-deep.yaml"),
        format!("apiVersion: v1\nkind: X\nspec: {}\n", "[".repeat(5000)),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("c-binary.yaml"),
        b"apiVersion: v1\n\xff\xfe\x00\x01kind: Secret\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("d-ok.yaml"),
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\ndata:\n  GH: {token}\n"),
    )
    .unwrap();
    let out = tollgate()
        .args(["dir", "--format", "json", "-v"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["k8s"]["name"], "ok");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("a-broken.yaml: not valid YAML"), "{stderr}");
}

#[test]
fn history_findings_carry_kubernetes_context_and_commit() {
    let repo = Repo::new(&[]);
    let head = repo.commit(
        &[(
            "deploy/app.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  namespace: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          env:\n            - name: DB_PASSWORD\n              value: Tz9!kQ4#mW7pL2xR\n",
        )],
        "add app",
    );
    let out = tollgate()
        .args(["git", "--format", "json"])
        .arg(&repo.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &doc["findings"][0];
    assert_eq!(f["rule_id"], "k8s.env-literal");
    assert_eq!(f["k8s"]["env"], "DB_PASSWORD");
    assert_eq!(f["k8s"]["namespace"], "web");
    assert_eq!(f["git"]["commit"], head.trim());
}
