//! A `Finding` is what every report prints: a rule, where it matched, and the secret,
//! redacted unless the user asked otherwise. Its fingerprint depends only on the rule,
//! the secret and the path, so baselines survive edits above the secret and rebases.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn raised(self) -> Confidence {
        match self {
            Confidence::Low => Confidence::Medium,
            Confidence::Medium | Confidence::High => Confidence::High,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl std::str::FromStr for Confidence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Confidence::Low),
            "medium" => Ok(Confidence::Medium),
            "high" => Ok(Confidence::High),
            other => Err(format!("unknown confidence `{other}` (low, medium, high)")),
        }
    }
}

/// Commit provenance, filled by git sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitContext {
    /// The commit that first introduced the blob; empty for an unreachable blob.
    pub commit: String,
    /// The blob the secret is in.
    #[serde(default)]
    pub blob: String,
    pub author_name: String,
    pub author_email: String,
    pub date: String,
    pub summary: String,
    /// How many other (commit, path) places introduced the same blob.
    #[serde(default)]
    pub other_locations: usize,
}

/// Where a finding sits in Kubernetes, filled by the manifest stage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct K8sContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// The credential-access technique this finding enables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technique: Option<TechniqueInfo>,
    /// What a posture finding is about: the grant, the host path, the bound role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Who is bound to a role or binding, when the binding is in the scan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
}

impl K8sContext {
    /// Where in Kubernetes a finding sits, and what it enables, in a line or two:
    /// `in Deployment payments/payments-api, container api, env DB_PASSWORD
    /// (spec.template.spec.containers[0].env[1].value)`.
    pub fn describe(&self) -> Vec<String> {
        let k = self;
        let mut lines = Vec::new();
        let mut place = Vec::new();
        if let Some(kind) = &k.kind {
            let name = match (&k.namespace, &k.name) {
                (Some(ns), Some(name)) => format!(" {ns}/{name}"),
                (None, Some(name)) => format!(" {name}"),
                _ => String::new(),
            };
            place.push(format!("{kind}{name}"));
        }
        if let Some(c) = &k.container {
            place.push(format!("container {c}"));
        }
        if let Some(e) = &k.env {
            place.push(format!("env {e}"));
        }
        let mut first = format!("in {}", place.join(", "));
        if place.is_empty() {
            first = match &k.field {
                Some(field) => format!("at {field}"),
                None => String::new(),
            };
        } else if let Some(field) = &k.field {
            first.push_str(&format!(" ({field})"));
        }
        if !first.is_empty() {
            lines.push(first);
        }
        if let Some(detail) = &k.detail {
            lines.push(detail.clone());
        }
        if !k.subjects.is_empty() {
            lines.push(format!("bound: {}", k.subjects.join("; ")));
        }
        if let Some(t) = &k.technique {
            lines.push(format!(
                "technique: {} {} (ATT&CK {})",
                t.id, t.name, t.mitre
            ));
        }
        lines
    }
}

/// A technique of Microsoft's threat matrix for Kubernetes and its MITRE ATT&CK id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TechniqueInfo {
    /// `MS-TA9025`
    pub id: String,
    /// `List K8s secrets`
    pub name: String,
    /// `T1552.007`
    pub mitre: String,
}

/// One reported secret. `secret` holds the redacted form unless redaction is off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: String,
    pub rule_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub confidence: Confidence,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub secret: String,
    pub redacted: bool,
    pub entropy: f64,
    pub fingerprint: String,
    /// Decoders applied, outermost first, when the secret was found in decoded text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decoded: Vec<String>,
    /// The source line with the secret masked (or shown, with `--no-redact`), shortened.
    pub snippet: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitContext>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k8s: Option<K8sContext>,
}

/// The first characters of a secret, then `…`. Short secrets show less, so that the
/// visible part never gives away more than a quarter of the value.
pub fn redact(secret: &str) -> String {
    let chars = secret.chars().count();
    let shown = if chars >= 16 { 4 } else { chars / 4 };
    let mut out: String = secret.chars().take(shown).collect();
    out.push('…');
    out
}

/// `sha256(rule id, sha256(secret), path)`, hex, first 32 characters.
pub fn fingerprint(rule_id: &str, secret: &[u8], path: &str) -> String {
    let secret_hash = Sha256::digest(secret);
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0]);
    h.update(secret_hash);
    h.update([0]);
    h.update(path.as_bytes());
    let digest = h.finalize();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    digest[..16]
        .iter()
        .flat_map(|b| {
            [
                HEX[usize::from(b >> 4)] as char,
                HEX[usize::from(b & 15)] as char,
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_most_of_the_secret() {
        assert_eq!(redact("ghp_abcdefghijklmnopqrstuvwxyz0123456789"), "ghp_…");
        assert_eq!(redact("hunter2pass"), "hu…");
        assert_eq!(redact("abc"), "…");
    }

    #[test]
    fn fingerprint_depends_on_rule_secret_and_path_only() {
        let a = fingerprint("r.a", b"s3cr3t", "x/y.env");
        assert_eq!(a, fingerprint("r.a", b"s3cr3t", "x/y.env"));
        assert_ne!(a, fingerprint("r.b", b"s3cr3t", "x/y.env"));
        assert_ne!(a, fingerprint("r.a", b"s3cr3T", "x/y.env"));
        assert_ne!(a, fingerprint("r.a", b"s3cr3t", "x/z.env"));
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn confidence_orders_and_raises() {
        assert!(Confidence::High > Confidence::Medium);
        assert_eq!(Confidence::Low.raised(), Confidence::Medium);
        assert_eq!(Confidence::High.raised(), Confidence::High);
        assert_eq!("MEDIUM".parse::<Confidence>(), Ok(Confidence::Medium));
    }
}
