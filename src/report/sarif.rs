//! `--format sarif`: SARIF 2.1.0, one run, with each finding's fingerprint in
//! `partialFingerprints` so code-scanning services deduplicate across runs.

use std::io;

use serde_json::{json, Value};
use termcolor::WriteColor;

use super::Report;
use crate::finding::{Confidence, Finding};
use crate::scan::Summary;

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const FINGERPRINT_KEY: &str = "tollgate/v1";

pub struct SarifReport;

fn level(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "note",
    }
}

/// Rule tags: a secret, or a posture finding, and the technique's ids.
fn tags(f: &Finding) -> Vec<String> {
    let mut tags = vec!["security".to_string()];
    tags.push(
        if f.secret.is_empty() {
            "kubernetes"
        } else {
            "secret"
        }
        .to_string(),
    );
    if let Some(t) = f.k8s.as_ref().and_then(|k| k.technique.as_ref()) {
        tags.push(t.id.clone());
        tags.push(format!("external/mitre-attack/{}", t.mitre));
    }
    tags
}

/// A relative path as a URI reference: `/`-separated, reserved bytes percent-encoded.
fn artifact_uri(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut out = String::from(if absolute { "file://" } else { "" });
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.trim_start_matches("./").to_string()
}

impl Report for SarifReport {
    fn write(
        &self,
        findings: &[Finding],
        summary: &Summary,
        out: &mut dyn WriteColor,
    ) -> io::Result<()> {
        let mut rule_ids: Vec<&str> = Vec::new();
        let mut rules: Vec<Value> = Vec::new();
        for f in findings {
            if !rule_ids.contains(&f.rule_id.as_str()) {
                rule_ids.push(&f.rule_id);
                let mut rule = json!({
                    "id": f.rule_id,
                    "shortDescription": {"text": f.rule_name},
                    "defaultConfiguration": {"level": level(f.confidence)},
                    "properties": {"tags": tags(f)},
                });
                if let Some(d) = &f.description {
                    rule["fullDescription"] = json!({ "text": d });
                }
                rules.push(rule);
            }
        }
        let results: Vec<Value> = findings
            .iter()
            .map(|f| {
                let rule_index = rule_ids.iter().position(|r| *r == f.rule_id).unwrap_or(0);
                let decoded = if f.decoded.is_empty() {
                    String::new()
                } else {
                    format!(" in {} text", f.decoded.join("/"))
                };
                let mut text = f.rule_name.clone();
                if !f.secret.is_empty() {
                    text.push_str(&format!(" ({}){decoded}", f.secret));
                }
                if let Some(k) = &f.k8s {
                    for line in k.describe() {
                        text.push_str("; ");
                        text.push_str(&line);
                    }
                }
                let mut properties = json!({
                    "confidence": f.confidence.as_str(),
                    "entropy": f.entropy,
                });
                if let Some(k) = &f.k8s {
                    properties["k8s"] = json!(k);
                }
                json!({
                    "ruleId": f.rule_id,
                    "ruleIndex": rule_index,
                    "level": level(f.confidence),
                    "message": {"text": text},
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": {"uri": artifact_uri(&f.path)},
                            "region": {
                                "startLine": f.line,
                                "startColumn": f.column,
                                "endLine": f.end_line,
                                "endColumn": f.end_column.max(1),
                                "snippet": {"text": f.snippet},
                            }
                        }
                    }],
                    "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
                    "properties": properties,
                })
            })
            .collect();
        let doc = json!({
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "tollgate",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }},
                "columnKind": "unicodeCodePoints",
                "invocations": [invocation(summary)],
                "results": results,
            }],
        });
        super::write_json(&mut *out, &doc, true)?;
        writeln!(out)
    }
}

/// Whether the run read everything it was asked to: a scan that could not is no clean
/// pass, whatever its results say.
fn invocation(summary: &Summary) -> Value {
    let mut problems = Vec::new();
    if summary.roots_unscanned > 0 {
        problems.push(format!(
            "{} path(s) named on the command line could not be scanned",
            summary.roots_unscanned
        ));
    }
    if summary.history.as_ref().is_some_and(|h| !h.complete) {
        problems.push(
            "part of the history (a ref, commit, tree or blob) could not be read: the history scan is incomplete"
                .to_string(),
        );
    }
    let notifications: Vec<Value> = problems
        .iter()
        .map(|text| json!({"level": "error", "message": {"text": text}}))
        .collect();
    json!({
        "executionSuccessful": problems.is_empty(),
        "toolExecutionNotifications": notifications,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_references() {
        assert_eq!(artifact_uri("a/b c.yaml"), "a/b%20c.yaml");
        assert_eq!(artifact_uri("./x/y"), "x/y");
        assert_eq!(artifact_uri("/abs/p"), "file:///abs/p");
        assert_eq!(artifact_uri("back\\slash.env"), "back%5Cslash.env");
    }
}
