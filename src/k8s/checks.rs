//! Structural checks over parsed manifests: credentials that only the structure reveals
//! (an env var named `DB_PASSWORD`, a committed Secret's values, a docker config's
//! `auth`), and credential-access posture (RBAC on secrets, hostPath mounts of credential
//! files, cluster-admin bindings). Each check is a rule with an id, a base confidence and
//! a technique; `--disable-rule` and `--enable-rule` select them like any other rule.

use std::ops::Range;

use base64::Engine as _;

use super::manifest::{self, Object, Step};
use super::yaml::{Node, Scalar};
use super::Technique;
use crate::engine::filters;
use crate::finding::{Confidence, K8sContext};

pub struct Check {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// The confidence most findings get; a check may raise or lower it per finding.
    pub confidence: Confidence,
    pub technique: Technique,
    /// Off unless `--enable-rule` names it.
    pub default_enabled: bool,
}

macro_rules! checks {
    ($($konst:ident = $id:literal, $name:literal, $conf:ident, $tech:ident, $on:literal, $desc:literal;)*) => {
        pub const CHECKS: &[Check] = &[$(Check {
            id: $id,
            name: $name,
            description: $desc,
            confidence: Confidence::$conf,
            technique: Technique::$tech,
            default_enabled: $on,
        }),*];
        checks!(@index 0usize, $($konst)*);
    };
    (@index $n:expr, $first:ident $($rest:ident)*) => {
        pub const $first: usize = $n;
        checks!(@index $n + 1usize, $($rest)*);
    };
    (@index $n:expr,) => {};
}

checks! {
    ENV_LITERAL = "k8s.env-literal", "Literal credential in a container env var", Medium, AppCredentials, true,
        "An env var whose name says it holds a credential (PASSWORD, SECRET, TOKEN, API_KEY, ...) is given a literal value instead of a secretKeyRef.";
    SECRET_VALUE = "k8s.secret-value", "Credential value in a committed Secret", High, AppCredentials, true,
        "A Secret manifest committed with a credential in `data` (base64) or `stringData`: a password, token, private key or similar key.";
    SECRET_COMMITTED = "k8s.secret-committed", "Secret object committed with credentials", Medium, AppCredentials, true,
        "A Secret manifest holds credential values (a password, token, key or registry auth) in the repository; anyone who can read the repository can read them. Use SealedSecrets, SOPS, or an external secret store.";
    DOCKER_CONFIG = "k8s.dockerconfig-auth", "Registry credential in a docker config Secret", High, AppCredentials, true,
        "A `kubernetes.io/dockerconfigjson` or `dockercfg` Secret whose `auth` (base64 user:password), `password` or identity token is committed.";
    CONFIGMAP_CREDENTIAL = "k8s.configmap-credential", "Credential in a ConfigMap", Medium, AppCredentials, true,
        "A ConfigMap key that names a credential holds a literal value; ConfigMaps are not meant for secrets and are readable more widely.";
    KUBECONFIG_CREDENTIAL = "k8s.kubeconfig-credential", "Credential in a kubeconfig", High, AppCredentials, true,
        "A kubeconfig user entry with a token, password, client key or auth-provider secret.";
    KUSTOMIZE_LITERAL = "k8s.kustomize-literal", "Literal in a Kustomize secretGenerator", Medium, AppCredentials, true,
        "A `secretGenerator` literal (`KEY=value`) puts the secret's value in the repository.";
    CONFIG_CREDENTIAL = "k8s.config-credential", "Credential in deployment configuration", Low, AppCredentials, true,
        "A key that names a credential holds a literal value in a manifest, Helm values file or cloud provider config (e.g. AKS azure.json `aadClientSecret`).";
    RBAC_SECRETS = "k8s.rbac-secrets-access", "Role can read Secrets", High, ListSecrets, true,
        "A Role or ClusterRole grants get, list or watch on secrets (or wildcard resources or verbs): whoever is bound to it can read every credential in scope.";
    HOSTPATH_CREDENTIALS = "k8s.hostpath-credentials", "hostPath mount of credential files", High, MountServicePrincipal, true,
        "A pod mounts a host path that holds credentials (/etc/kubernetes, azure.json, kubelet directories, cloud CLI and kube config in home directories, /var/run/secrets) or a parent of one, such as the root filesystem.";
    CLUSTER_ADMIN_BINDING = "k8s.cluster-admin-binding", "Binding to cluster-admin", High, ContainerServiceAccount, true,
        "A RoleBinding or ClusterRoleBinding grants cluster-admin: its subjects, and any pod running as them, control the cluster.";
    SA_TOKEN_AUTOMOUNT = "k8s.sa-token-automount", "Powerful service-account token mounted", Medium, ContainerServiceAccount, true,
        "A pod keeps its service-account token automounted while that service account is bound (in the scanned manifests) to a role that can read secrets or to cluster-admin.";
    ENV_SECRET_REF = "k8s.env-secret-ref", "Secret consumed through env vars", Low, AppCredentials, false,
        "A container reads a Secret through env vars (secretKeyRef, envFrom): env leaks into logs, crash dumps and child processes; mounted files are safer. Off by default.";
}

pub fn check_index(id: &str) -> Option<usize> {
    CHECKS.iter().position(|c| c.id == id)
}

/// A structural finding, before it gets a line and a fingerprint.
#[derive(Debug, Clone)]
pub struct Hit {
    pub check: usize,
    pub span: Range<usize>,
    /// Empty for posture findings.
    pub secret: Vec<u8>,
    /// The secret was decoded from the text at `span`.
    pub decoded: Vec<&'static str>,
    pub confidence: Confidence,
    pub context: K8sContext,
    /// What identifies a posture finding across edits (no line numbers).
    pub identity: String,
}

impl Hit {
    /// A finding of `check` at `path` in `object`, with the check's confidence and
    /// technique.
    pub fn new(
        check: usize,
        object: &Object<'_>,
        path: &[Step<'_>],
        span: Range<usize>,
        secret: Vec<u8>,
    ) -> Hit {
        let mut context = object.context(path);
        context.technique = Some(CHECKS[check].technique.info());
        let identity = format!(
            "{}|{}",
            object.identity(),
            context.field.as_deref().unwrap_or("")
        );
        Hit {
            check,
            span,
            secret,
            decoded: Vec::new(),
            confidence: CHECKS[check].confidence,
            context,
            identity,
        }
    }
}

/// The state of one object's checks.
pub struct Checker<'a, 'o> {
    pub object: &'o Object<'a>,
    /// The engine's matches in this blob.
    pub matches: &'o super::SpanIndex,
    /// The text spans values were read from (masked templates keep offsets).
    pub text: &'a str,
    pub hits: &'o mut Vec<Hit>,
}

impl<'a> Checker<'a, '_> {
    fn hit(&mut self, check: usize, path: &[Step<'a>], span: Range<usize>, secret: Vec<u8>) {
        self.hits
            .push(Hit::new(check, self.object, path, span, secret));
    }

    /// Run every check that applies to this object.
    pub fn run(&mut self, config_file: bool) {
        let object = *self.object;
        let root = object.root;
        match object.kind {
            Some("Secret") if object.is_resource() => self.secret(),
            Some(kind) if NO_LITERALS.contains(&kind) => {}
            Some("Role" | "ClusterRole") if object.is_resource() => self.rbac_role(),
            Some("RoleBinding" | "ClusterRoleBinding") if object.is_resource() => {
                self.cluster_admin_binding()
            }
            _ => {
                let check = if object.is_kind("ConfigMap") {
                    CONFIGMAP_CREDENTIAL
                } else if object.is_kind("Config") || root.get("users").is_some() {
                    KUBECONFIG_CREDENTIAL
                } else {
                    CONFIG_CREDENTIAL
                };
                if object.is_resource() || config_file {
                    self.credential_keys(root, &mut Vec::new(), check);
                }
                if object.is_kind("Kustomization") || root.get("secretGenerator").is_some() {
                    self.kustomize();
                }
            }
        }
        for (path, spec) in manifest::pod_specs(root) {
            self.host_paths(&path, spec);
            for (list, i, container) in manifest::containers(spec) {
                let mut path = path.clone();
                path.push(Step::Key(list, spec.get(list).expect("listed")));
                path.push(Step::Index(i, container));
                self.env_from(container, &mut path);
            }
        }
    }

    /// Mapping keys that name a credential, with literal values, anywhere in the object
    /// except where values are known not to be literals: env lists (checked by name),
    /// SOPS metadata, status, annotations.
    fn credential_keys(&mut self, node: &'a Node, path: &mut Vec<Step<'a>>, check: usize) {
        match node {
            Node::Map(entries, _) => {
                for (k, v) in entries {
                    let Some(key) = k.as_str() else { continue };
                    if path.is_empty() && matches!(key, "sops" | "status") {
                        continue;
                    }
                    if key == "annotations" || key == "managedFields" {
                        continue;
                    }
                    path.push(Step::Key(key, v));
                    if is_env_list(v) {
                        // `env:`, `extraEnvVars:`, a kubeconfig's `exec.env`: entries
                        // of `{name, value}`, judged by the name.
                        let check = if check == KUBECONFIG_CREDENTIAL {
                            KUBECONFIG_CREDENTIAL
                        } else if in_container(path) {
                            ENV_LITERAL
                        } else {
                            check
                        };
                        self.env_list(v, path, check);
                    } else if let Node::Scalar(s) = v {
                        if is_credential_name(key) {
                            if let Some(strength) = literal_strength(&s.value, s.plain) {
                                let secret = s.value.as_bytes().to_vec();
                                self.hit(check, path, value_span(self.text, s), secret);
                                self.grade(check, strength);
                            }
                        }
                    } else {
                        self.credential_keys(v, path, check);
                    }
                    path.pop();
                }
            }
            Node::Seq(items, _) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Step::Index(i, item));
                    self.credential_keys(item, path, check);
                    path.pop();
                }
            }
            Node::Scalar(_) | Node::Alias(_) => {}
        }
    }

    /// The last hit's confidence from its check's base and the value's strength.
    fn grade(&mut self, check: usize, strength: Strength) {
        let base = CHECKS[check].confidence;
        if let Some(hit) = self.hits.last_mut() {
            hit.confidence = match strength {
                Strength::Strong => base.raised(),
                Strength::Weak => base,
            };
        }
    }

    /// `env: [{name, value}]`: a credential name with a literal value; with the optional
    /// check on, every secretKeyRef and envFrom secretRef too.
    fn env_list(&mut self, env: &'a Node, path: &mut Vec<Step<'a>>, check: usize) {
        for (i, item) in env.items().iter().enumerate() {
            path.push(Step::Index(i, item));
            let name = item.str_at(&["name"]).unwrap_or("");
            if let Some(value) = item.get("value").and_then(Node::as_scalar) {
                if is_credential_name(name) && !name_is_reference(name) {
                    if let Some(strength) = literal_strength(&value.value, value.plain) {
                        path.push(Step::Key("value", item.get("value").expect("checked")));
                        let secret = value.value.as_bytes().to_vec();
                        self.hit(check, path, value_span(self.text, value), secret);
                        self.grade(check, strength);
                        // Outside a container (`extraEnvVars`, a kubeconfig's exec env)
                        // the context has no env yet.
                        if let Some(hit) = self.hits.last_mut() {
                            hit.context.env.get_or_insert_with(|| name.to_string());
                        }
                        path.pop();
                    }
                }
            }
            if let Some(secret_ref) = item.at(&["valueFrom", "secretKeyRef"]) {
                path.push(Step::Key(
                    "valueFrom",
                    item.get("valueFrom").expect("checked"),
                ));
                path.push(Step::Key("secretKeyRef", secret_ref));
                self.hit(ENV_SECRET_REF, path, secret_ref.span(), Vec::new());
                path.truncate(path.len() - 2);
            }
            path.pop();
        }
    }

    fn env_from(&mut self, container: &'a Node, path: &mut Vec<Step<'a>>) {
        let Some(env_from) = container.get("envFrom") else {
            return;
        };
        path.push(Step::Key("envFrom", env_from));
        for (i, item) in env_from.items().iter().enumerate() {
            if let Some(secret_ref) = item.get("secretRef") {
                path.push(Step::Index(i, item));
                path.push(Step::Key("secretRef", secret_ref));
                self.hit(ENV_SECRET_REF, path, secret_ref.span(), Vec::new());
                path.truncate(path.len() - 2);
            }
        }
        path.pop();
    }

    fn secret(&mut self) {
        let root = self.object.root;
        let mut values = 0usize;
        for (section, encoded) in [("data", true), ("stringData", false)] {
            let Some(map) = root.get(section) else {
                continue;
            };
            for (k, v) in map.entries() {
                let (Some(key), Some(scalar)) = (k.as_str(), v.as_scalar()) else {
                    continue;
                };
                let raw = scalar.value.trim();
                if raw.is_empty() || is_placeholder_value(raw) {
                    continue;
                }
                let value = if encoded {
                    match decode_base64(raw) {
                        Some(text) => text,
                        None => raw.to_string(),
                    }
                } else {
                    raw.to_string()
                };
                if value.trim().is_empty() || is_placeholder_value(&value) {
                    continue;
                }
                if is_public_certificate(&value) {
                    continue;
                }
                let span = value_span(self.text, scalar);
                if self.matches.overlaps(&span)
                    || is_credential_name(key)
                    || is_private_key(&value)
                    || matches!(key, ".dockerconfigjson" | ".dockercfg")
                {
                    values += 1;
                }
                let path = [Step::Key(section, map), Step::Key(key, v)];
                let decoded = if encoded { vec!["base64"] } else { Vec::new() };
                if matches!(key, ".dockerconfigjson" | ".dockercfg") {
                    for (registry, user, secret) in docker_credentials(&value) {
                        self.hit(DOCKER_CONFIG, &path, span.clone(), secret.into_bytes());
                        let hit = self.hits.last_mut().expect("just pushed");
                        hit.decoded = decoded.clone();
                        hit.context.detail = Some(match user {
                            Some(user) => format!("registry {registry}, user {user}"),
                            None => format!("registry {registry}"),
                        });
                    }
                } else if is_credential_name(key) || is_private_key(&value) {
                    let strength = strength_of(&value);
                    self.hit(SECRET_VALUE, &path, span, value.into_bytes());
                    let hit = self.hits.last_mut().expect("just pushed");
                    hit.decoded = decoded;
                    if strength == Strength::Weak {
                        hit.confidence = Confidence::Medium;
                    }
                }
            }
        }
        if values > 0 {
            let at = root
                .at(&["metadata", "name"])
                .or_else(|| root.get("kind"))
                .map_or(root.span(), Node::span);
            self.hit(SECRET_COMMITTED, &[], at, Vec::new());
            let hit = self.hits.last_mut().expect("just pushed");
            hit.context.detail = Some(format!(
                "{values} credential value{} committed",
                if values == 1 { "" } else { "s" }
            ));
        }
    }

    fn kustomize(&mut self) {
        let root = self.object.root;
        for section in ["secretGenerator", "configMapGenerator"] {
            let Some(generators) = root.get(section) else {
                continue;
            };
            for (g, generator) in generators.items().iter().enumerate() {
                let Some(literals) = generator.get("literals") else {
                    continue;
                };
                for (i, literal) in literals.items().iter().enumerate() {
                    let Some(scalar) = literal.as_scalar() else {
                        continue;
                    };
                    let Some((key, value)) = scalar.value.split_once('=') else {
                        continue;
                    };
                    // A ConfigMap literal counts only when its key names a credential.
                    if section == "configMapGenerator" && !is_credential_name(key) {
                        continue;
                    }
                    let Some(strength) = literal_strength(value, false) else {
                        continue;
                    };
                    let path = [
                        Step::Key(section, generators),
                        Step::Index(g, generator),
                        Step::Key("literals", literals),
                        Step::Index(i, literal),
                    ];
                    let whole = value_span(self.text, scalar);
                    let span = self.text[whole.clone()]
                        .find(value)
                        .map_or(whole.clone(), |p| {
                            whole.start + p..whole.start + p + value.len()
                        });
                    self.hit(KUSTOMIZE_LITERAL, &path, span, value.as_bytes().to_vec());
                    self.grade(KUSTOMIZE_LITERAL, strength);
                }
            }
        }
    }

    fn rbac_role(&mut self) {
        let root = self.object.root;
        let Some(rules) = root.get("rules") else {
            return;
        };
        for (i, rule) in rules.items().iter().enumerate() {
            let Some(grant) = secrets_grant(rule) else {
                continue;
            };
            let at = rule.get("resources").unwrap_or(rule);
            let path = [Step::Key("rules", rules), Step::Index(i, rule)];
            self.hit(RBAC_SECRETS, &path, at.span(), Vec::new());
            let scope = if self.object.is_kind("ClusterRole") {
                "in every namespace it is bound for".to_string()
            } else {
                format!(
                    "in namespace {}",
                    self.object.namespace.unwrap_or("(unset)")
                )
            };
            let hit = self.hits.last_mut().expect("just pushed");
            hit.confidence = grant.confidence;
            hit.context.detail = Some(format!(
                "grants {} on {} {scope}",
                grant.verbs, grant.resources
            ));
        }
    }

    fn cluster_admin_binding(&mut self) {
        let root = self.object.root;
        let Some(role_ref) = root.get("roleRef") else {
            return;
        };
        if role_ref.str_at(&["name"]) != Some("cluster-admin")
            || role_ref
                .str_at(&["kind"])
                .is_some_and(|k| k != "ClusterRole")
        {
            return;
        }
        let at = role_ref.get("name").expect("checked");
        let path = [Step::Key("roleRef", role_ref), Step::Key("name", at)];
        self.hit(CLUSTER_ADMIN_BINDING, &path, at.span(), Vec::new());
        let subjects = subjects(root, self.object.namespace);
        let hit = self.hits.last_mut().expect("just pushed");
        hit.context.subjects = subjects.iter().map(Subject::to_string).collect();
    }

    fn host_paths(&mut self, spec_path: &[Step<'a>], spec: &'a Node) {
        let Some(volumes) = spec.get("volumes") else {
            return;
        };
        for (i, volume) in volumes.items().iter().enumerate() {
            let Some(path_node) = volume.at(&["hostPath", "path"]) else {
                continue;
            };
            let Some(host_path) = path_node.as_str() else {
                continue;
            };
            let Some((confidence, why)) = credential_host_path(host_path) else {
                continue;
            };
            let host = volume.get("hostPath").expect("checked");
            let mut path = spec_path.to_vec();
            path.extend([
                Step::Key("volumes", volumes),
                Step::Index(i, volume),
                Step::Key("hostPath", host),
                Step::Key("path", path_node),
            ]);
            self.hit(HOSTPATH_CREDENTIALS, &path, path_node.span(), Vec::new());
            let volume_name = volume.str_at(&["name"]).unwrap_or("");
            let mounted_by: Vec<&str> = manifest::containers(spec)
                .filter(|(_, _, c)| {
                    c.get("volumeMounts").is_some_and(|m| {
                        m.items()
                            .iter()
                            .any(|m| m.str_at(&["name"]) == Some(volume_name))
                    })
                })
                .filter_map(|(_, _, c)| c.str_at(&["name"]))
                .collect();
            let hit = self.hits.last_mut().expect("just pushed");
            hit.confidence = confidence;
            hit.context.container = mounted_by.first().map(|s| s.to_string());
            hit.context.detail = Some(if mounted_by.is_empty() {
                format!("{host_path}: {why}")
            } else {
                format!("{host_path}: {why}; mounted by {}", mounted_by.join(", "))
            });
        }
    }
}

/// A list of `{name, value}` entries (`valueFrom` entries count too): an env list,
/// whatever its key.
fn is_env_list(node: &Node) -> bool {
    let items = node.items();
    !items.is_empty()
        && items.iter().all(|item| {
            item.get("name").is_some()
                && (item.get("value").is_some() || item.get("valueFrom").is_some())
        })
}

/// Is this path inside a container of a pod spec?
fn in_container(path: &[Step<'_>]) -> bool {
    path.windows(2).any(|w| {
        matches!(w, [Step::Key(list, _), Step::Index(..)] if manifest::CONTAINER_LISTS.contains(list))
    })
}

/// A RoleBinding's subjects; a ServiceAccount without a namespace takes the binding's.
pub fn subjects(binding: &Node, namespace: Option<&str>) -> Vec<Subject> {
    binding
        .get("subjects")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| {
            let kind = s.str_at(&["kind"])?.to_string();
            let name = s.str_at(&["name"])?.to_string();
            let namespace = s
                .str_at(&["namespace"])
                .or(if kind == "ServiceAccount" {
                    namespace
                } else {
                    None
                })
                .map(str::to_string);
            Some(Subject {
                kind,
                name,
                namespace,
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subject {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

pub struct Grant {
    pub verbs: String,
    pub resources: String,
    pub confidence: Confidence,
}

/// Does this RBAC rule let its holder read secrets? Secrets are in the core API group.
pub fn secrets_grant(rule: &Node) -> Option<Grant> {
    let groups: Vec<&str> = rule
        .get("apiGroups")
        .map(|g| g.strings().collect())
        .unwrap_or_default();
    if !groups.is_empty() && !groups.iter().any(|g| g.is_empty() || *g == "*") {
        return None;
    }
    let resources: Vec<&str> = rule.get("resources")?.strings().collect();
    let wildcard_resource = resources.contains(&"*");
    if !wildcard_resource && !resources.contains(&"secrets") {
        return None;
    }
    let verbs: Vec<&str> = rule.get("verbs")?.strings().collect();
    let reading: Vec<&str> = verbs
        .iter()
        .copied()
        .filter(|v| matches!(*v, "get" | "list" | "watch" | "*"))
        .collect();
    if reading.is_empty() {
        return None;
    }
    let named = rule
        .get("resourceNames")
        .is_some_and(|n| !n.items().is_empty());
    let confidence = if named {
        // Limited to named secrets: still a read path, but a narrow one.
        Confidence::Low
    } else if reading.iter().any(|v| matches!(*v, "list" | "watch" | "*")) {
        Confidence::High
    } else {
        Confidence::Medium
    };
    Some(Grant {
        verbs: reading.join(", "),
        resources: if wildcard_resource {
            "every resource (*)".into()
        } else {
            "secrets".into()
        },
        confidence,
    })
}

/// Host paths that hold credentials: exact locations, with `*` for one path component.
const CREDENTIAL_PATHS: &[(&str, &str)] = &[
    ("/etc/kubernetes", "Kubernetes node config and credentials (azure.json, cloud.conf, admin.conf, kubelet.conf, pki)"),
    ("/var/lib/kubelet", "kubelet directory: its credentials and every pod's mounted secrets"),
    ("/var/lib/kubernetes", "Kubernetes node credentials"),
    ("/etc/rancher", "k3s/RKE2 kubeconfig and tokens"),
    ("/var/lib/rancher", "k3s/RKE2 server tokens and certificates"),
    ("/var/run/secrets", "service-account tokens and mounted secrets"),
    ("/run/secrets", "service-account tokens and mounted secrets"),
    ("/root/.kube", "kubeconfig"),
    ("/root/.aws", "AWS CLI credentials"),
    ("/root/.azure", "Azure CLI credentials"),
    ("/root/.config/gcloud", "gcloud credentials"),
    ("/root/.docker", "docker registry credentials"),
    ("/root/.ssh", "SSH keys"),
    ("/home/*/.kube", "kubeconfig"),
    ("/home/*/.aws", "AWS CLI credentials"),
    ("/home/*/.azure", "Azure CLI credentials"),
    ("/home/*/.config/gcloud", "gcloud credentials"),
    ("/home/*/.docker", "docker registry credentials"),
    ("/home/*/.ssh", "SSH keys"),
];

/// A `/`-separated path's components, with `.` and `..` resolved.
pub fn path_components(path: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts
}

/// A hostPath that is, lies inside, or contains a credential location.
pub fn credential_host_path(path: &str) -> Option<(Confidence, String)> {
    if !path.starts_with('/') {
        return None;
    }
    let parts = path_components(path);
    if parts.is_empty() {
        return Some((
            Confidence::High,
            "the node's root filesystem, with every credential on it".into(),
        ));
    }
    let mut exposed: Vec<&str> = Vec::new();
    for (location, what) in CREDENTIAL_PATHS {
        let loc: Vec<&str> = location.split('/').filter(|p| !p.is_empty()).collect();
        let common = parts.len().min(loc.len());
        let same = parts[..common]
            .iter()
            .zip(&loc[..common])
            .all(|(p, l)| *l == "*" || p == l);
        if !same {
            continue;
        }
        if parts.len() >= loc.len() {
            // At or inside the location.
            return Some((Confidence::High, what.to_string()));
        }
        exposed.push(location);
    }
    (!exposed.is_empty()).then(|| {
        exposed.dedup();
        (
            Confidence::Medium,
            format!("contains {}", exposed.join(", ")),
        )
    })
}

/// Does this name say the value is a credential? Words are split at `_`, `-`, `.`, `/`
/// and camelCase; `PGPASSWORD` counts (a word may contain `password`). Names that end
/// in a word saying the value is about a credential rather than one (`secretName`,
/// `passwordFile`, `tokenUrl`, `accessKeyId`) do not count.
pub fn is_credential_name(name: &str) -> bool {
    if !may_name_credential(name) {
        return false;
    }
    let words = words(name);
    let Some(last) = words.last() else {
        return false;
    };
    let owned_key =
        last == "key" && words.len() >= 2 && KEY_OWNERS.contains(&words[words.len() - 2].as_str());
    if (!owned_key && NOT_A_VALUE.contains(&last.as_str()))
        || words.first().is_some_and(|w| w == "existing")
    {
        return false;
    }
    // A Secret object named by what it holds: `tlsSecret`, `imagePullSecret`,
    // `caSecret` name a Secret; `clientSecret` and `webhookSecret` are secrets.
    if last == "secret"
        && words.len() >= 2
        && SECRET_OBJECT_KINDS.contains(&words[words.len() - 2].as_str())
    {
        return false;
    }
    words.iter().enumerate().any(|(i, w)| {
        let prev = i.checked_sub(1).map(|p| words[p].as_str());
        (w.contains("passw") && !w.contains("passwordless"))
            || w == "pwd"
            || w.contains("passphrase")
            || (w == "pass" && i + 1 == words.len())
            || (w.contains("secret") && w != "secrets")
            || (w.contains("token") && !w.starts_with("tokeniz"))
            || w.contains("credential")
            || w.contains("apikey")
            || w.contains("privatekey")
            || w.contains("accesskey")
            || (w == "key" && prev.is_some_and(|p| KEY_OWNERS.contains(&p)))
    })
}

/// A cheap first look: every credential name contains one of these, case aside.
fn may_name_credential(name: &str) -> bool {
    const PARTS: &[&[u8]] = &[b"pass", b"pwd", b"secret", b"token", b"credential", b"key"];
    let bytes = name.as_bytes();
    bytes.windows(3).enumerate().any(|(i, w)| {
        let head = [
            w[0].to_ascii_lowercase(),
            w[1].to_ascii_lowercase(),
            w[2].to_ascii_lowercase(),
        ];
        PARTS.iter().any(|p| {
            p[..3] == head
                && bytes.len() >= i + p.len()
                && bytes[i..i + p.len()].eq_ignore_ascii_case(p)
        })
    })
}

/// Names ending in these hold a reference, a setting or metadata, not a credential.
const NOT_A_VALUE: &[&str] = &[
    "name",
    "names",
    "ref",
    "refs",
    "reference",
    "id",
    "arn",
    "file",
    "files",
    "path",
    "dir",
    "directory",
    "location",
    "url",
    "uri",
    "endpoint",
    "type",
    "length",
    "len",
    "size",
    "ttl",
    "expiry",
    "expiration",
    "expires",
    "timeout",
    "policy",
    "enabled",
    "enable",
    "disabled",
    "required",
    "mode",
    "header",
    "field",
    "prefix",
    "suffix",
    "format",
    "version",
    "count",
    "hash",
    "algorithm",
    "selector",
    "template",
    "provider",
    "store",
    "namespace",
    "mount",
    "env",
    "var",
    "key",
    "keys",
    "source",
    "sources",
    "generator",
    "annotation",
    "label",
    "command",
    "cmd",
    "script",
    "issuer",
    "audience",
    "scope",
    "scopes",
    "regex",
    "pattern",
    "rotation",
    "min",
    "max",
];

/// `<kind>Secret` names a Secret object of that kind (a certificate, registry login),
/// not a secret value.
const SECRET_OBJECT_KINDS: &[&str] = &[
    "tls",
    "ssl",
    "cert",
    "certs",
    "certificate",
    "certificates",
    "ca",
    "pull",
    "registry",
    "docker",
    "dockerconfig",
    "imagepull",
];

/// `key` is a credential only after one of these: `secretKey`, `API_KEY`, `tls.key`.
const KEY_OWNERS: &[&str] = &[
    "secret",
    "private",
    "api",
    "access",
    "auth",
    "encryption",
    "signing",
    "master",
    "client",
    "app",
    "session",
    "tls",
    "ssl",
    "license",
    "account",
    "storage",
    "shared",
];

fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// An env var named like a credential that points at one instead: `DB_PASSWORD_FILE`,
/// `TOKEN_PATH` are caught by `NOT_A_VALUE`; this catches env-var indirections.
fn name_is_reference(name: &str) -> bool {
    name.ends_with("_FROM") || name.ends_with("_REF")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    Weak,
    Strong,
}

fn strength_of(value: &str) -> Strength {
    if value.len() >= 16 && filters::shannon_entropy(value.as_bytes()) >= 3.5 {
        Strength::Strong
    } else {
        Strength::Weak
    }
}

/// Is this a literal credential value (not empty, a placeholder, a reference to a secret
/// store, a path, a word or a number), and how strong does it look?
pub fn literal_strength(value: &str, plain: bool) -> Option<Strength> {
    let v = value.trim();
    if v.len() < 6 || v.len() > 4096 || is_reference(v) || is_password_hash(v) {
        return None;
    }
    let lower = v.to_ascii_lowercase();
    if filters::is_generic_noise(v.as_bytes(), !plain) {
        return None;
    }
    // Kebab-case object names (`existingSecret: pg-credentials-v2`), image references.
    let kebab = v.split('-').count() > 1
        && v.split('-').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if kebab || lower.contains("sha256:") || is_file_name(&lower) {
        return None;
    }
    Some(strength_of(v))
}

/// A file's name (`credentials.json`, `tls.key`): the key inside a Secret or a mounted
/// file that holds the credential, not the credential.
fn is_file_name(lower: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        "json",
        "yaml",
        "yml",
        "pem",
        "key",
        "crt",
        "cer",
        "der",
        "p12",
        "pfx",
        "jks",
        "txt",
        "conf",
        "cfg",
        "ini",
        "properties",
        "xml",
        "toml",
        "env",
    ];
    lower.rsplit_once('.').is_some_and(|(stem, ext)| {
        EXTENSIONS.contains(&ext)
            && !stem.is_empty()
            && stem
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    })
}

/// A placeholder, or a reference to a secret store resolved at deploy time
/// (`vault:secret/data/app#password`, `ref+awssm://...`, `op://vault/item/field`).
pub fn is_reference(value: &str) -> bool {
    const REFERENCES: &[&str] = &[
        "vault:",
        "ref+",
        "secretref",
        "arn:",
        "sm://",
        "gcp:",
        "gcpsm://",
        "azkv://",
        "awssm://",
        "file:",
        "env:",
        "op://",
        "doppler://",
        "akv://",
        "k8s://",
        "secret://",
        "projects/",
        "!vault",
    ];
    let lower = value.trim().to_ascii_lowercase();
    filters::is_placeholder(value.trim().as_bytes())
        || REFERENCES.iter().any(|r| lower.starts_with(r))
}

/// Objects that hold ciphertext or references to an external store, never values.
pub const NO_LITERALS: &[&str] = &[
    "SealedSecret",
    "ExternalSecret",
    "ClusterExternalSecret",
    "SecretStore",
    "ClusterSecretStore",
    "PushSecret",
    "VaultStaticSecret",
    "VaultDynamicSecret",
];

/// The bytes to report: the scalar as written, minus its quotes.
pub fn value_span(text: &str, s: &Scalar) -> Range<usize> {
    let span = s.span.clone();
    let bytes = text.as_bytes();
    if span.len() >= 2
        && matches!(bytes.get(span.start), Some(b'"' | b'\''))
        && bytes.get(span.end - 1) == bytes.get(span.start)
    {
        span.start + 1..span.end - 1
    } else {
        span
    }
}

pub fn decode_base64(text: &str) -> Option<String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact.trim_end_matches('='))
        })
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// A single-token value that is a placeholder. A file's worth of text (a docker config
/// naming `registry.example.com`, a properties file) is judged by what is inside it.
fn is_placeholder_value(value: &str) -> bool {
    let v = value.trim();
    let token = !v.contains(char::is_whitespace) && v.len() <= 256;
    token && (filters::is_placeholder(v.as_bytes()) || is_password_hash(v))
}

/// A password hash (bcrypt, argon2, crypt(3) SHA-2, LDAP `{SSHA}`): what a server stores
/// to check a password, not the password (`argocdServerAdminPassword: $2a$10$...`).
fn is_password_hash(value: &str) -> bool {
    [
        "$2a$",
        "$2b$",
        "$2y$",
        "$argon2",
        "$5$",
        "$6$",
        "$pbkdf2",
        "{SSHA}",
        "{SHA}",
        "{SSHA512}",
    ]
    .iter()
    .any(|p| value.starts_with(p))
}

fn is_public_certificate(value: &str) -> bool {
    let v = value.trim_start();
    v.starts_with("-----BEGIN CERTIFICATE-----") && !v.contains("PRIVATE KEY-----")
}

fn is_private_key(value: &str) -> bool {
    let v = value.trim_start();
    v.starts_with("-----BEGIN") && v.contains("PRIVATE KEY-----")
}

/// Registry credentials in a docker config (`{"auths": {...}}`) or legacy `.dockercfg`
/// (registries at the top level): (registry, user, secret).
pub fn docker_credentials(json: &str) -> Vec<(String, Option<String>, String)> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    let registries = value.get("auths").unwrap_or(&value);
    let Some(registries) = registries.as_object() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (registry, entry) in registries {
        let field = |k: &str| {
            entry
                .get(k)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
        };
        let mut user = field("username").map(str::to_string);
        let mut secret = field("password").map(str::to_string);
        if let Some(auth) = field("auth").and_then(decode_base64) {
            if let Some((u, p)) = auth.split_once(':') {
                user.get_or_insert_with(|| u.to_string());
                if secret.is_none() && !p.is_empty() {
                    secret = Some(p.to_string());
                }
            }
        }
        let secret = secret
            .or_else(|| field("identitytoken").map(str::to_string))
            .or_else(|| field("registrytoken").map(str::to_string));
        if let Some(secret) = secret.filter(|s| !filters::is_placeholder(s.as_bytes())) {
            out.push((registry.clone(), user, secret));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names() {
        for yes in [
            "DB_PASSWORD",
            "PGPASSWORD",
            "MYSQL_ROOT_PASSWORD",
            "JWT_SECRET",
            "API_KEY",
            "apiKey",
            "GITHUB_TOKEN",
            "aadClientSecret",
            "secretKey",
            "AWS_SECRET_ACCESS_KEY",
            "tls.key",
            "ssh-privatekey",
            "client-key-data",
            "client-secret",
            "id-token",
            "SMTP_PASS",
            "credentials",
            "STRIPE_API_KEY",
            "adminPassword",
            "refresh-token",
            "webhookSecret",
            "cookieSecret",
        ] {
            assert!(is_credential_name(yes), "{yes}");
        }
        for no in [
            "DB_PASSWORD_FILE",
            "secretName",
            "existingSecret",
            "tlsSecret",
            "imagePullSecret",
            "caSecret",
            "TOKEN_URL",
            "AWS_ACCESS_KEY_ID",
            "imagePullSecrets",
            "LOG_LEVEL",
            "passwordPolicy",
            "tokenTtl",
            "TOKENIZERS_PARALLELISM",
            "username",
            "key",
            "secretKeyRef",
            "passwordKey",
            "certificate-authority-data",
            "PASSWORD_LENGTH",
        ] {
            assert!(!is_credential_name(no), "{no}");
        }
    }

    #[test]
    fn literal_values() {
        for yes in [
            "hunter2-Prod",
            "pQ8#vL2m!zR7",
            "s3cr3t-P4ss-2024",
            "pQ8#vL2m!.json",
        ] {
            assert!(literal_strength(yes, true).is_some(), "{yes}");
        }
        for no in [
            "",
            "changeme",
            "${DB_PASSWORD}",
            "$(TOKEN)",
            "{{ .Values.x }}",
            "vault:secret/db#pw",
            "/etc/secrets/db",
            "true",
            "12345",
            "pg-credentials-v2",
            "xxxxxxxxxx",
            "ENC[AES256_GCM,data:abc]",
            "sha256:0f3e",
            "credentials.json",
            "dokuwiki.local-tls",
        ] {
            assert!(literal_strength(no, true).is_none(), "{no}");
        }
    }

    #[test]
    fn host_paths() {
        assert_eq!(credential_host_path("/").unwrap().0, Confidence::High);
        assert_eq!(
            credential_host_path("/etc/kubernetes/azure.json")
                .unwrap()
                .0,
            Confidence::High
        );
        assert_eq!(
            credential_host_path("/home/alice/.kube").unwrap().0,
            Confidence::High
        );
        assert_eq!(
            credential_host_path("/var/lib/kubelet/pki/").unwrap().0,
            Confidence::High
        );
        assert_eq!(credential_host_path("/etc").unwrap().0, Confidence::Medium);
        assert_eq!(credential_host_path("/home").unwrap().0, Confidence::Medium);
        for no in [
            "/var/log",
            "/var/lib/docker",
            "/tmp",
            "/dev/shm",
            "/etc/ssl/certs",
            "data",
        ] {
            assert!(credential_host_path(no).is_none(), "{no}");
        }
    }

    #[test]
    fn docker_configs() {
        // "ci-bot:Dk8s-R3gistry-Pass" in base64.
        let json =
            r#"{"auths":{"registry.example.com":{"auth":"Y2ktYm90OkRrOHMtUjNnaXN0cnktUGFzcw=="}}}"#;
        let creds = docker_credentials(json);
        assert_eq!(creds.len(), 1);
        assert_eq!(creds[0].1.as_deref(), Some("ci-bot"));
        assert_eq!(creds[0].2, "Dk8s-R3gistry-Pass");
        assert!(docker_credentials(r#"{"auths":{}}"#).is_empty());
        assert!(docker_credentials("not json").is_empty());
    }
}
