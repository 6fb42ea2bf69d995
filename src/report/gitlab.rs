//! `--format gitlab`: GitLab's secret-detection report (schema 15.2.4), the artifact a CI
//! job names under `artifacts:reports:secret_detection` so that findings show in merge
//! requests and the vulnerability report.
//!
//! Decisions the schema leaves open:
//! - `id` is a UUID-shaped hash of fingerprint, commit, path and line, so the same finding
//!   gets the same id on every run.
//! - `severity` comes from confidence. A leaked credential is what GitLab's own analyzer
//!   rates `Critical`; tollgate lowers that one step per step of doubt (high → Critical,
//!   medium → High, low → Medium). A Kubernetes posture finding (a grant or a mount, no
//!   secret) is rated one step lower still (High, Medium, Low).
//! - The schema requires `location.commit.sha`. A `dir` scan has no commit, and there
//!   tollgate writes `0000000`, the placeholder GitLab's own secrets analyzer writes.
//! - Only `finding.secret` (redacted unless `--no-redact`) is written, also in
//!   `raw_source_code_extract`, which GitLab's analyzer fills with the raw secret.

use std::io;
use std::time::{Duration, SystemTime};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use termcolor::WriteColor;

use super::Report;
use crate::finding::{Confidence, Finding, K8sContext};
use crate::scan::Summary;

/// The version of GitLab's security-report schema the document conforms to.
pub const GITLAB_SCHEMA_VERSION: &str = "15.2.4";
const GITLAB_SCHEMA_URL: &str = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.2.4/dist/secret-detection-report-format.json";
/// What GitLab's secrets analyzer writes as the commit of a finding outside history.
pub const NO_COMMIT_SHA: &str = "0000000";
/// The schema's limit on `name`.
const NAME_MAX_CHARS: usize = 255;

pub struct GitlabReport;

pub fn severity(f: &Finding) -> &'static str {
    let posture = f.secret.is_empty();
    match (f.confidence, posture) {
        (Confidence::High, false) => "Critical",
        (Confidence::Medium, false) | (Confidence::High, true) => "High",
        (Confidence::Low, false) | (Confidence::Medium, true) => "Medium",
        (Confidence::Low, true) => "Low",
    }
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC, the only form the schema accepts.
pub fn gitlab_time(t: SystemTime) -> String {
    match jiff::Timestamp::try_from(t) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
        // Out of jiff's range (year ±9999): the epoch says "unknown" without failing the report.
        Err(_) => "1970-01-01T00:00:00".to_string(),
    }
}

/// The commit a finding was introduced in, or the placeholder when there is none.
fn commit_sha(f: &Finding) -> &str {
    match &f.git {
        Some(g) if !g.commit.is_empty() => &g.commit,
        _ => NO_COMMIT_SHA,
    }
}

/// A deterministic UUID-shaped id (version 8, "custom", RFC 9562) from what makes a
/// finding this finding: its fingerprint, commit, path and line.
pub fn vulnerability_id(f: &Finding) -> String {
    let mut h = Sha256::new();
    for part in [
        f.fingerprint.as_bytes(),
        commit_sha(f).as_bytes(),
        f.path.as_bytes(),
        f.line.to_string().as_bytes(),
    ] {
        h.update(part);
        h.update([0]);
    }
    let mut b: [u8; 16] = h.finalize()[..16].try_into().expect("16 bytes of a sha256");
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// Text inside a Markdown code span: a backtick would end it early.
fn code_span(s: &str) -> String {
    format!("`{}`", s.replace('`', "'"))
}

fn identifiers(f: &Finding) -> Vec<Value> {
    let mut ids = vec![json!({
        "type": "tollgate_rule_id",
        "name": format!("tollgate rule {}", f.rule_id),
        "value": f.rule_id,
    })];
    if let Some(t) = f.k8s.as_ref().and_then(|k| k.technique.as_ref()) {
        ids.push(json!({
            "type": "kubernetes_threat_matrix",
            "name": format!("{} {}", t.id, t.name),
            "value": t.id,
        }));
        let mut mitre = json!({
            "type": "mitre_attack",
            "name": format!("ATT&CK {}", t.mitre),
            "value": t.mitre,
        });
        // T1552.007 → techniques/T1552/007/
        if t.mitre.starts_with('T')
            && t.mitre
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.')
        {
            mitre["url"] = json!(format!(
                "https://attack.mitre.org/techniques/{}/",
                t.mitre.replace('.', "/")
            ));
        }
        ids.push(mitre);
    }
    ids
}

fn description(f: &Finding) -> String {
    let mut d = match &f.description {
        Some(text) => format!("{text}\n\n"),
        None => String::new(),
    };
    d.push_str(&format!(
        "{}, {} confidence, in {} at line {}, column {}",
        f.rule_name,
        f.confidence.as_str(),
        code_span(&f.path),
        f.line,
        f.column
    ));
    if let Some(g) = f.git.as_ref().filter(|g| !g.commit.is_empty()) {
        d.push_str(&format!(", introduced in commit {}", code_span(&g.commit)));
    }
    d.push('.');
    if !f.secret.is_empty() {
        d.push_str(&format!("\n\nSecret: {}", code_span(&f.secret)));
        if !f.decoded.is_empty() {
            d.push_str(&format!(" (in {} text)", f.decoded.join("/")));
        }
    }
    if let Some(k) = &f.k8s {
        let lines = k.describe();
        if !lines.is_empty() {
            d.push_str("\n\nKubernetes:");
            for line in lines {
                d.push_str(&format!("\n- {line}"));
            }
        }
    }
    d
}

fn solution(f: &Finding) -> &'static str {
    if f.secret.is_empty() {
        "Remove the grant, binding or mount, or narrow it to what the workload needs."
    } else {
        "Revoke and rotate the credential, then remove it from the repository and its \
         history; load it from a secret store at run time instead."
    }
}

fn text(name: &str, value: &str) -> Value {
    json!({"name": name, "type": "text", "value": value})
}

fn k8s_details(k: &K8sContext) -> Value {
    let mut items = Map::new();
    let fields = [
        ("api_version", "API version", &k.api_version),
        ("kind", "Kind", &k.kind),
        ("namespace", "Namespace", &k.namespace),
        ("name", "Name", &k.name),
        ("container", "Container", &k.container),
        ("field", "Field", &k.field),
        ("env", "Environment variable", &k.env),
        ("detail", "Detail", &k.detail),
    ];
    for (key, label, value) in fields {
        if let Some(v) = value {
            items.insert(key.to_string(), text(label, v));
        }
    }
    if !k.subjects.is_empty() {
        items.insert(
            "subjects".to_string(),
            text("Bound subjects", &k.subjects.join("; ")),
        );
    }
    if let Some(t) = &k.technique {
        items.insert(
            "technique".to_string(),
            text(
                "Technique",
                &format!("{} {} (ATT&CK {})", t.id, t.name, t.mitre),
            ),
        );
    }
    json!({"name": "Kubernetes", "type": "named-list", "items": items})
}

fn details(f: &Finding) -> Value {
    let mut items = Map::new();
    items.insert(
        "confidence".into(),
        text("Confidence", f.confidence.as_str()),
    );
    items.insert("fingerprint".into(), text("Fingerprint", &f.fingerprint));
    if !f.secret.is_empty() {
        let label = if f.redacted {
            "Secret (redacted)"
        } else {
            "Secret"
        };
        items.insert("secret".into(), text(label, &f.secret));
        items.insert(
            "entropy".into(),
            json!({"name": "Entropy", "type": "value", "value": (f.entropy * 1000.0).round() / 1000.0}),
        );
    }
    if !f.decoded.is_empty() {
        items.insert("decoded".into(), text("Decoded from", &f.decoded.join("/")));
    }
    if let Some(g) = &f.git {
        if !g.commit.is_empty() {
            items.insert(
                "commit".into(),
                json!({"name": "Commit", "type": "commit", "value": g.commit}),
            );
        }
        if !g.blob.is_empty() {
            items.insert("blob".into(), text("Blob", &g.blob));
        }
        if g.other_locations > 0 {
            items.insert(
                "other_locations".into(),
                json!({"name": "Other places this blob was introduced", "type": "value", "value": g.other_locations}),
            );
        }
    }
    if !f.snippet.is_empty() {
        items.insert(
            "snippet".into(),
            json!({"name": "Line", "type": "code", "value": f.snippet}),
        );
    }
    if let Some(k) = &f.k8s {
        items.insert("kubernetes".into(), k8s_details(k));
    }
    Value::Object(items)
}

fn location(f: &Finding) -> Value {
    let mut commit = json!({ "sha": commit_sha(f) });
    if let Some(g) = f.git.as_ref().filter(|g| !g.commit.is_empty()) {
        let author = match (g.author_name.is_empty(), g.author_email.is_empty()) {
            (false, false) => format!("{} <{}>", g.author_name, g.author_email),
            (false, true) => g.author_name.clone(),
            _ => g.author_email.clone(),
        };
        commit["author"] = json!(author);
        commit["date"] = json!(g.date);
        commit["message"] = json!(g.summary);
    }
    json!({
        "file": f.path,
        "start_line": f.line,
        "end_line": f.end_line.max(f.line),
        "commit": commit,
    })
}

fn vulnerability(f: &Finding) -> Value {
    let mut v = json!({
        "id": vulnerability_id(f),
        "category": "secret_detection",
        "name": truncate_chars(&f.rule_name, NAME_MAX_CHARS),
        "description": description(f),
        "severity": severity(f),
        "solution": solution(f),
        "identifiers": identifiers(f),
        "location": location(f),
        "details": details(f),
        // Tracks the finding across line moves: the fingerprint ignores line numbers.
        "tracking": {
            "type": "source",
            "items": [{
                "file": f.path,
                "start_line": f.line,
                "end_line": f.end_line.max(f.line),
                "signatures": [{"algorithm": "hash", "value": f.fingerprint}],
            }],
        },
    });
    if !f.secret.is_empty() {
        v["raw_source_code_extract"] = json!(f.secret);
    }
    v
}

fn scan(summary: &Summary) -> Value {
    let duration = Duration::from_millis(summary.duration_ms);
    let started = summary
        .started_at
        .or_else(|| SystemTime::now().checked_sub(duration))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let ended = started.checked_add(duration).unwrap_or(started);
    let tool = json!({
        "id": "tollgate",
        "name": "tollgate",
        "version": env!("CARGO_PKG_VERSION"),
        "vendor": {"name": "tollgate"},
    });
    let history_incomplete = summary.history.as_ref().is_some_and(|h| !h.complete);
    let incomplete = summary.roots_unscanned > 0 || history_incomplete;
    let mut messages = Vec::new();
    if summary.roots_unscanned > 0 {
        messages.push(json!({"level": "warn", "value": format!(
            "{} path(s) named on the command line could not be scanned",
            summary.roots_unscanned
        )}));
    }
    if history_incomplete {
        messages.push(json!({"level": "warn",
            "value": "part of the history (a ref, commit, tree or blob) could not be read: the history scan is incomplete"}));
    }
    if summary.warnings > 0 {
        messages.push(json!({"level": "warn", "value": format!(
            "{} warning(s) during the scan (see the job log)", summary.warnings
        )}));
    }
    let mut scan = json!({
        "analyzer": tool,
        "scanner": tool,
        "type": "secret_detection",
        "start_time": gitlab_time(started),
        "end_time": gitlab_time(ended),
        // A root that could not be scanned at all, or history that could not be read,
        // means the scan did not cover what it was asked to: GitLab should not show it as
        // a clean pass.
        "status": if incomplete { "failure" } else { "success" },
    });
    if !messages.is_empty() {
        scan["messages"] = Value::Array(messages);
    }
    scan
}

impl Report for GitlabReport {
    fn write(
        &self,
        findings: &[Finding],
        summary: &Summary,
        out: &mut dyn WriteColor,
    ) -> io::Result<()> {
        let doc = json!({
            "version": GITLAB_SCHEMA_VERSION,
            "schema": GITLAB_SCHEMA_URL,
            "scan": scan(summary),
            "vulnerabilities": findings.iter().map(vulnerability).collect::<Vec<_>>(),
        });
        super::write_json(&mut *out, &doc, true)?;
        writeln!(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{GitContext, TechniqueInfo};
    use crate::report::sample_finding as finding;

    #[test]
    fn times_have_the_one_form_the_schema_accepts() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(gitlab_time(t), "2023-11-14T22:13:20");
        assert_eq!(gitlab_time(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00");
    }

    #[test]
    fn ids_are_uuid_shaped_and_stable() {
        let f = finding();
        let id = vulnerability_id(&f);
        assert_eq!(id, vulnerability_id(&f.clone()));
        let parts: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(parts, vec![8, 4, 4, 4, 12]);
        assert_eq!(&id[14..15], "8");
        let mut moved = f.clone();
        moved.line = 4;
        assert_ne!(id, vulnerability_id(&moved));
        let mut committed = f.clone();
        committed.git = Some(GitContext {
            commit: "a".repeat(40),
            blob: String::new(),
            author_name: "A".into(),
            author_email: "a@example.org".into(),
            date: "2024-01-01T00:00:00+00:00".into(),
            summary: "add".into(),
            other_locations: 0,
        });
        assert_ne!(id, vulnerability_id(&committed));
    }

    #[test]
    fn severity_follows_confidence_and_kind() {
        let mut f = finding();
        assert_eq!(severity(&f), "Critical");
        f.confidence = Confidence::Medium;
        assert_eq!(severity(&f), "High");
        f.confidence = Confidence::Low;
        assert_eq!(severity(&f), "Medium");
        f.secret.clear();
        assert_eq!(severity(&f), "Low");
        f.confidence = Confidence::High;
        assert_eq!(severity(&f), "High");
    }

    #[test]
    fn a_finding_outside_history_gets_the_placeholder_commit() {
        let v = vulnerability(&finding());
        assert_eq!(v["location"]["commit"], json!({"sha": NO_COMMIT_SHA}));
        assert_eq!(v["raw_source_code_extract"], "ghp_…");
    }

    #[test]
    fn kubernetes_context_reaches_description_details_and_identifiers() {
        let mut f = finding();
        f.k8s = Some(K8sContext {
            kind: Some("Deployment".into()),
            namespace: Some("payments".into()),
            name: Some("payments-api".into()),
            container: Some("api".into()),
            env: Some("DB_PASSWORD".into()),
            technique: Some(TechniqueInfo {
                id: "MS-TA9027".into(),
                name: "Application credentials in configuration files".into(),
                mitre: "T1552".into(),
            }),
            ..K8sContext::default()
        });
        let v = vulnerability(&f);
        let d = v["description"].as_str().unwrap();
        assert!(d.contains("Deployment payments/payments-api, container api, env DB_PASSWORD"));
        assert!(d.contains("MS-TA9027"));
        let k = &v["details"]["kubernetes"]["items"];
        assert_eq!(k["container"]["value"], "api");
        assert_eq!(k["env"]["value"], "DB_PASSWORD");
        let ids: Vec<&str> = v["identifiers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["value"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec!["github.pat", "MS-TA9027", "T1552"]);
        assert_eq!(
            v["identifiers"][2]["url"],
            "https://attack.mitre.org/techniques/T1552/"
        );
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary() {
        let name = "é".repeat(300);
        assert_eq!(truncate_chars(&name, NAME_MAX_CHARS).chars().count(), 255);
        assert_eq!(truncate_chars("short", NAME_MAX_CHARS), "short");
    }
}
