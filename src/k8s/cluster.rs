//! Links between objects that may sit in different files: which subjects a role is bound
//! to, and which pods run, token mounted, as a service account that can read secrets.
//! Each blob contributes `BlobFacts`; after the scan, `correlate` joins them.

use super::checks::{self, Hit, Subject, CHECKS, RBAC_SECRETS, SA_TOKEN_AUTOMOUNT};
use super::manifest::{self, Object, Step};
use super::yaml::Node;
use super::Selection;
use super::Technique;
use crate::finding::{Confidence, Finding, K8sContext};

/// Built-in ClusterRoles that can read secrets.
const BUILTIN_SECRET_READERS: &[&str] = &["cluster-admin", "admin", "edit"];

#[derive(Debug, Clone)]
pub struct RoleFact {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct BindingFact {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub role_kind: String,
    pub role_name: String,
    pub subjects: Vec<Subject>,
}

#[derive(Debug, Clone)]
pub struct AccountFact {
    pub namespace: Option<String>,
    pub name: String,
    pub automount: Option<bool>,
}

/// A pod spec, and the finding to report if its service account turns out powerful.
#[derive(Debug, Clone)]
pub struct PodFact<R> {
    pub namespace: Option<String>,
    pub account: String,
    /// `automountServiceAccountToken` on the pod spec.
    pub automount: Option<bool>,
    pub report: R,
}

/// What a blob or a whole scan contributes. A blob's pods carry the hit to report
/// (`BlobFacts`); the scan's carry the finding it became.
#[derive(Debug)]
pub struct Facts<R = Finding> {
    /// Roles that can read secrets.
    pub secret_readers: Vec<RoleFact>,
    pub bindings: Vec<BindingFact>,
    pub accounts: Vec<AccountFact>,
    pub pods: Vec<PodFact<R>>,
    /// Files a Kustomize `secretGenerator` reads (`envs`, `files`) with the context of
    /// the Secret they become: relative to the kustomization in `BlobFacts`, as findings
    /// name them in `Facts`.
    pub generator_sources: Vec<(String, K8sContext)>,
}

pub type BlobFacts = Facts<Hit>;

impl<R> Default for Facts<R> {
    fn default() -> Self {
        Facts {
            secret_readers: Vec::new(),
            bindings: Vec::new(),
            accounts: Vec::new(),
            pods: Vec::new(),
            generator_sources: Vec::new(),
        }
    }
}

impl<R> Facts<R> {
    pub fn is_empty(&self) -> bool {
        self.secret_readers.is_empty()
            && self.bindings.is_empty()
            && self.accounts.is_empty()
            && self.pods.is_empty()
            && self.generator_sources.is_empty()
    }

    pub fn merge(&mut self, other: Facts<R>) {
        self.secret_readers.extend(other.secret_readers);
        self.bindings.extend(other.bindings);
        self.accounts.extend(other.accounts);
        self.pods.extend(other.pods);
        self.generator_sources.extend(other.generator_sources);
    }
}

impl Facts {
    /// Add one blob's facts; `report` turns a pod's hit into a finding; `path` is the
    /// blob's path as findings show it.
    pub fn add(&mut self, blob: BlobFacts, path: &str, mut report: impl FnMut(Hit) -> Finding) {
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        for (file, mut ctx) in blob.generator_sources {
            ctx.detail = ctx.detail.map(|d| format!("{d} of {path}"));
            self.generator_sources.push((join_path(dir, &file), ctx));
        }
        self.secret_readers.extend(blob.secret_readers);
        self.bindings.extend(blob.bindings);
        self.accounts.extend(blob.accounts);
        self.pods.extend(blob.pods.into_iter().map(|p| PodFact {
            namespace: p.namespace,
            account: p.account,
            automount: p.automount,
            report: report(p.report),
        }));
    }
}

fn str_owned(node: &Node, path: &[&str]) -> Option<String> {
    node.str_at(path).map(str::to_string)
}

impl BlobFacts {
    pub fn collect(objects: &[Object<'_>]) -> BlobFacts {
        let mut facts = BlobFacts::default();
        for object in objects {
            facts.generator_sources.extend(generator_sources(object));
        }
        for object in objects.iter().filter(|o| o.is_resource()) {
            let root = object.root;
            let namespace = object.namespace.map(str::to_string);
            let name = object.name.unwrap_or("").to_string();
            match object.kind.unwrap_or("") {
                kind @ ("Role" | "ClusterRole") => {
                    let reads = root.get("rules").is_some_and(|r| {
                        r.items()
                            .iter()
                            .any(|rule| checks::secrets_grant(rule).is_some())
                    });
                    if reads {
                        facts.secret_readers.push(RoleFact {
                            kind: kind.to_string(),
                            namespace,
                            name,
                        });
                    }
                }
                kind @ ("RoleBinding" | "ClusterRoleBinding") => {
                    let (Some(role_kind), Some(role_name)) = (
                        str_owned(root, &["roleRef", "kind"]),
                        str_owned(root, &["roleRef", "name"]),
                    ) else {
                        continue;
                    };
                    facts.bindings.push(BindingFact {
                        kind: kind.to_string(),
                        subjects: checks::subjects(root, object.namespace),
                        namespace,
                        name,
                        role_kind,
                        role_name,
                    });
                }
                "ServiceAccount" => facts.accounts.push(AccountFact {
                    namespace,
                    name,
                    automount: bool_at(root, "automountServiceAccountToken"),
                }),
                _ => {
                    for (path, spec) in manifest::pod_specs(root) {
                        facts.pods.push(pod_fact(object, path, spec));
                    }
                }
            }
        }
        facts
    }
}

/// The files each `secretGenerator` of a kustomization reads, and the Secret it makes.
fn generator_sources(object: &Object<'_>) -> Vec<(String, K8sContext)> {
    let mut out = Vec::new();
    let Some(generators) = object.root.get("secretGenerator") else {
        return out;
    };
    for (g, generator) in generators.items().iter().enumerate() {
        for list in ["envs", "files", "env"] {
            let entries: Vec<&str> = match generator.get(list) {
                Some(Node::Scalar(s)) => vec![s.value.as_str()],
                Some(seq) => seq.strings().collect(),
                None => continue,
            };
            for (i, entry) in entries.into_iter().enumerate() {
                // `files` entries may name their key: `tls.key=certs/tls.key`.
                let file = entry.rsplit_once('=').map_or(entry, |(_, f)| f).trim();
                if file.is_empty() {
                    continue;
                }
                let ctx = K8sContext {
                    kind: Some("Secret".into()),
                    name: generator.str_at(&["name"]).map(str::to_string),
                    namespace: generator
                        .str_at(&["namespace"])
                        .or(object.root.str_at(&["namespace"]))
                        .map(str::to_string),
                    detail: Some(format!("read by secretGenerator[{g}].{list}[{i}]")),
                    technique: Some(Technique::AppCredentials.info()),
                    ..K8sContext::default()
                };
                out.push((file.to_string(), ctx));
            }
        }
    }
    out
}

/// `dir/rel`, with `.` and `..` resolved: how a finding in that file names its path.
fn join_path(dir: &str, rel: &str) -> String {
    let whole = if rel.starts_with('/') || dir.is_empty() {
        rel.to_string()
    } else {
        format!("{dir}/{rel}")
    };
    let joined = checks::path_components(&whole).join("/");
    if whole.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

fn bool_at(node: &Node, key: &str) -> Option<bool> {
    match node.str_at(&[key])? {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn pod_fact<'a>(object: &Object<'a>, mut path: Vec<Step<'a>>, spec: &'a Node) -> PodFact<Hit> {
    let account_key = ["serviceAccountName", "serviceAccount"]
        .into_iter()
        .find_map(|k| spec.get(k).map(|n| (k, n)));
    let account = account_key
        .and_then(|(_, n)| n.as_str())
        .unwrap_or("default")
        .to_string();
    let span = match account_key {
        Some((key, node)) => {
            path.push(Step::Key(key, node));
            node.span()
        }
        None => spec.span(),
    };
    PodFact {
        namespace: object.namespace.map(str::to_string),
        account,
        automount: bool_at(spec, "automountServiceAccountToken"),
        report: Hit::new(SA_TOKEN_AUTOMOUNT, object, &path, span, Vec::new()),
    }
}

/// Namespaces match when equal, or when either is unset (applied with `-n`, or set by
/// Kustomize at build time).
fn same_namespace(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

impl BindingFact {
    /// Does this binding grant the role `kind`/`name` (in `namespace`, for a Role)?
    fn grants(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        self.role_kind == kind
            && self.role_name == name
            && (kind == "ClusterRole" || same_namespace(self.namespace.as_deref(), namespace))
    }

    fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// Join the facts of every scanned blob: name the subjects bound to each secret-reading
/// role, and report pods whose automounted token belongs to a service account that can
/// read secrets.
pub fn correlate(
    findings: &mut Vec<Finding>,
    facts: Facts,
    selection: &Selection,
    min_confidence: Confidence,
) {
    if facts.is_empty() {
        return;
    }
    // Values in a file a secretGenerator reads land in that Secret.
    for finding in findings.iter_mut().filter(|f| f.k8s.is_none()) {
        if let Some((_, ctx)) = facts
            .generator_sources
            .iter()
            .find(|(path, _)| *path == finding.path)
        {
            finding.k8s = Some(ctx.clone());
        }
    }
    for finding in findings.iter_mut() {
        if finding.rule_id != CHECKS[RBAC_SECRETS].id {
            continue;
        }
        let Some(ctx) = finding.k8s.as_mut() else {
            continue;
        };
        let (Some(kind), Some(name)) = (ctx.kind.clone(), ctx.name.clone()) else {
            continue;
        };
        for binding in &facts.bindings {
            if binding.grants(&kind, ctx.namespace.as_deref(), &name) {
                for subject in &binding.subjects {
                    let entry = format!("{subject} (via {})", binding.describe());
                    if !ctx.subjects.contains(&entry) {
                        ctx.subjects.push(entry);
                    }
                }
            }
        }
    }

    if !selection.is_enabled(SA_TOKEN_AUTOMOUNT) {
        return;
    }
    let reads_secrets = |binding: &BindingFact| {
        (binding.role_kind == "ClusterRole"
            && BUILTIN_SECRET_READERS.contains(&binding.role_name.as_str()))
            || facts
                .secret_readers
                .iter()
                .any(|r| binding.grants(&r.kind, r.namespace.as_deref(), &r.name))
    };
    for pod in facts.pods {
        if pod.automount == Some(false) {
            continue;
        }
        let account_opts_out = facts.accounts.iter().any(|a| {
            a.name == pod.account
                && same_namespace(a.namespace.as_deref(), pod.namespace.as_deref())
                && a.automount == Some(false)
        });
        if pod.automount.is_none() && account_opts_out {
            continue;
        }
        let powerful: Vec<&BindingFact> = facts
            .bindings
            .iter()
            .filter(|b| {
                b.subjects.iter().any(|s| {
                    s.kind == "ServiceAccount"
                        && s.name == pod.account
                        && same_namespace(s.namespace.as_deref(), pod.namespace.as_deref())
                }) && reads_secrets(b)
            })
            .collect();
        if powerful.is_empty() {
            continue;
        }
        let admin = powerful.iter().any(|b| b.role_name == "cluster-admin");
        let mut finding = pod.report;
        finding.confidence = if admin {
            Confidence::High
        } else {
            Confidence::Medium
        };
        if finding.confidence < min_confidence {
            continue;
        }
        if let Some(ctx) = finding.k8s.as_mut() {
            let roles: Vec<String> = powerful
                .iter()
                .map(|b| format!("{} {} via {}", b.role_kind, b.role_name, b.describe()))
                .collect();
            ctx.detail = Some(format!(
                "the service account token of {} is automounted; the account is bound to {}",
                pod.account,
                roles.join(", ")
            ));
        }
        findings.push(finding);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_paths_resolve_like_finding_paths() {
        assert_eq!(
            join_path("fixtures/k8s/kustomize", "secrets.env"),
            "fixtures/k8s/kustomize/secrets.env"
        );
        assert_eq!(
            join_path("overlays/prod", "../base/./db.env"),
            "overlays/base/db.env"
        );
        assert_eq!(join_path("", "db.env"), "db.env");
        assert_eq!(join_path("/srv/app", "db.env"), "/srv/app/db.env");
    }
}
