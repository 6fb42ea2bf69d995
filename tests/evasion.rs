//! The evasion suite: what a hostile pusher tries to get a secret past the gate, each
//! through a real `git push` into a bare repository with the hook installed by
//! `tollgate hook install`, and where cheap the same bytes through `tollgate dir` and
//! `tollgate git`. Every case asserts the push is rejected with the secret's rule named
//! (or, where the README says a case is only reported, that it is never accepted
//! silently). Cases a scanner cannot reach are explained in the README instead.

mod common;

#[path = "evasion/content.rs"]
mod content;
#[path = "evasion/history.rs"]
mod history;
#[path = "evasion/policy.rs"]
mod policy;
#[path = "evasion/refs.rs"]
mod refs;

use common::Server;

/// The rule of the fixture token in `common::github_token`.
const GITHUB_RULE: &str = "github.pat-classic";
/// The rule of `common::STRIPE_KEY`.
const STRIPE_RULE: &str = "stripe.secret-key";

/// A server whose `main` already holds one clean commit (pushed without the hook).
fn server_with_main() -> Server {
    let s = Server::new(&[]);
    s.client.commit(&[("README.md", "# app\n")], "start");
    s.push_unchecked(&["main"]);
    s
}

/// The push was rejected for a secret: the rule and the path are named to the pusher,
/// and the block is in the audit log with the rule.
fn assert_rejected_for(s: &Server, (ok, out): &(bool, String), rule: &str, path: &str) {
    assert!(!ok, "the push was accepted: {out}");
    assert!(out.contains("push rejected: "), "{out}");
    assert!(out.contains(rule), "the rule {rule} is named: {out}");
    assert!(
        out.contains(&format!("{path}:")),
        "the path {path} is named: {out}"
    );
    let log = s.audit_log();
    assert!(
        log.lines()
            .any(|l| l.contains(r#""action":"block""#) && l.contains(rule)),
        "the block is audited: {log}"
    );
}

/// The push was accepted: the ref moved to the pushed commit.
fn assert_accepted(s: &Server, (ok, out): &(bool, String), reference: &str, commit: &str) {
    assert!(ok, "the push was rejected: {out}");
    assert_eq!(s.server_ref(reference).as_deref(), Some(commit), "{out}");
}

/// Every finding of a JSON report, as (rule id, path).
fn json_findings(stdout: &[u8]) -> Vec<(String, String)> {
    let report: serde_json::Value = serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(stdout)));
    report["findings"]
        .as_array()
        .expect("a findings array")
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap_or_default().to_string(),
                f["path"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}
