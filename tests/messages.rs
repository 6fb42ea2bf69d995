//! Pushed data that is not a file of a commit: commit messages, annotated tag messages,
//! symbolic link targets, and the trees and blobs a tag points at. Each through the real
//! CLI (`tollgate git`, `tollgate staged`) and a real `git push` into a bare repository
//! with the hook installed.

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;

use common::{github_token, token_line, tollgate, Repo, Server, STRIPE_KEY};
use serde_json::Value;

const GITHUB_RULE: &str = "github.pat-classic";
const STRIPE_RULE: &str = "stripe.secret-key";

/// `tollgate git REPO --format json EXTRA…`: (exit code, report).
fn audit(repo: &Path, extra: &[&str]) -> (i32, Value) {
    let out = tollgate()
        .args(["git", "--no-config", "--no-progress", "--format", "json"])
        .arg(repo)
        .args(extra)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), report)
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("a findings array")
}

/// The findings of a rule at a path, with their commit ids.
fn commits_of(report: &Value, rule: &str, path: &str) -> Vec<String> {
    findings(report)
        .iter()
        .filter(|f| f["rule_id"] == rule && f["path"] == path)
        .map(|f| f["git"]["commit"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn server_with_main() -> Server {
    let s = Server::new(&[]);
    s.client.commit(&[("README.md", "# app\n")], "start");
    s.push_unchecked(&["main"]);
    s
}

fn assert_rejected(s: &Server, (ok, out): &(bool, String), rule: &str, path: &str) {
    assert!(!ok, "the push was accepted: {out}");
    assert!(out.contains(rule), "the rule {rule} is named: {out}");
    assert!(out.contains(path), "{path} is named: {out}");
    assert!(
        s.audit_log()
            .lines()
            .any(|l| l.contains(r#""action":"block""#) && l.contains(rule)),
        "{}",
        s.audit_log()
    );
}

fn stripe_message() -> String {
    format!("rotate billing\n\nold key was STRIPE_KEY={STRIPE_KEY}\n")
}

#[test]
fn the_audit_reports_a_secret_in_a_commit_message_at_its_commit() {
    let repo = Repo::new(&[]);
    repo.commit(&[("a.txt", "a\n")], "start");
    let leaky = repo.commit(&[("b.txt", "b\n")], &stripe_message());
    repo.commit(&[("c.txt", "c\n")], "later");
    let (code, report) = audit(&repo.path, &[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(
        commits_of(&report, STRIPE_RULE, "<commit message>"),
        vec![leaky.clone()]
    );
    let f = findings(&report)
        .iter()
        .find(|f| f["path"] == "<commit message>")
        .unwrap();
    assert_eq!(f["git"]["summary"], "rotate billing");
    assert_eq!(f["git"]["author_name"], "Ada Author");
    assert_eq!(f["line"], 3, "{f}");
    assert!(!f.to_string().contains(STRIPE_KEY), "redacted: {f}");
    assert_eq!(report["summary"]["history"]["complete"], true);
}

#[test]
fn the_same_secret_in_two_messages_has_one_fingerprint_and_a_baseline_holds_it() {
    let repo = Repo::new(&[]);
    repo.commit(&[("a.txt", "a\n")], &stripe_message());
    repo.commit(&[("b.txt", "b\n")], &stripe_message());
    let (_, report) = audit(&repo.path, &[]);
    let prints: Vec<&str> = findings(&report)
        .iter()
        .filter(|f| f["path"] == "<commit message>")
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(prints.len(), 2, "{report}");
    assert_eq!(prints[0], prints[1]);

    let baseline = repo.sibling("baseline.json");
    let out = tollgate()
        .args(["baseline", "create", "git", "--no-config", "--output"])
        .arg(&baseline)
        .arg(&repo.path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let (code, report) = audit(&repo.path, &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(code, 0, "{report}");
    assert!(commits_of(&report, STRIPE_RULE, "<commit message>").is_empty());
}

#[test]
fn a_range_scans_only_the_messages_of_its_commits() {
    let repo = Repo::new(&[]);
    let old = repo.commit(&[("a.txt", "a\n")], &stripe_message());
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let new = repo.commit(
        &[("b.txt", "b\n")],
        &format!("feature\n\nGITHUB_TOKEN={}\n", github_token()),
    );
    let (code, report) = audit(&repo.path, &["--range", "main..feature"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(
        commits_of(&report, GITHUB_RULE, "<commit message>"),
        vec![new]
    );
    assert!(
        commits_of(&report, STRIPE_RULE, "<commit message>").is_empty(),
        "{old} is outside the range: {report}"
    );
}

#[test]
fn the_audit_reports_an_annotated_tag_message() {
    let repo = Repo::new(&[]);
    let head = repo.commit(&[("a.txt", "a\n")], "start");
    repo.git(&["tag", "-a", "v1", "-m", &stripe_message()]);
    let tag = repo.git(&["rev-parse", "v1"]);
    let (code, report) = audit(&repo.path, &[]);
    assert_eq!(code, 1, "{report}");
    let f = findings(&report)
        .iter()
        .find(|f| f["path"] == "<tag message>")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(f["rule_id"], STRIPE_RULE);
    assert_eq!(f["git"]["commit"], head.as_str());
    assert_eq!(f["git"]["blob"], tag.as_str());
    assert_eq!(f["git"]["summary"], "tag refs/tags/v1");
}

#[test]
fn a_push_with_a_secret_in_a_commit_message_is_rejected_and_a_clean_one_accepted() {
    let s = server_with_main();
    s.client.commit(&[("b.txt", "b\n")], &stripe_message());
    let push = s.push(&["main"]);
    assert_rejected(&s, &push, STRIPE_RULE, "<commit message>");

    s.client.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let head = s.client.commit(&[("b.txt", "b\n")], "clean message");
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "{out}");
    assert_eq!(s.server_ref("main").as_deref(), Some(head.as_str()));
}

#[test]
fn a_message_already_on_the_server_does_not_block_a_later_push() {
    let s = server_with_main();
    s.client.commit(&[("b.txt", "b\n")], &stripe_message());
    s.push_unchecked(&["main"]);
    let head = s.client.commit(&[("c.txt", "c\n")], "clean");
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "{out}");
    assert_eq!(s.server_ref("main").as_deref(), Some(head.as_str()));
}

#[test]
fn a_pushed_annotated_tag_with_a_secret_in_its_message_is_rejected() {
    let s = server_with_main();
    s.client.git(&["tag", "-a", "v1", "-m", &stripe_message()]);
    let push = s.push(&["refs/tags/v1"]);
    assert_rejected(&s, &push, STRIPE_RULE, "<tag message>");
    assert!(s.server_ref("refs/tags/v1").is_none());
}

#[test]
fn a_tag_of_a_tree_is_scanned_and_named_by_its_ref() {
    let s = server_with_main();
    s.client.write("deep/loose.env", &token_line());
    s.client.write("deep/clean.txt", "nothing\n");
    s.client.git(&["add", "deep"]);
    let tree = s.client.git(&["write-tree"]);
    s.client.git(&["rm", "-q", "-r", "--cached", "deep"]);
    s.client.git(&["tag", "treetag", &tree]);

    let (code, report) = audit(&s.client.path, &[]);
    assert_eq!(code, 1, "{report}");
    let paths: Vec<&str> = findings(&report)
        .iter()
        .filter(|f| f["rule_id"] == GITHUB_RULE)
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["refs/tags/treetag:deep/loose.env"], "{report}");
    assert_eq!(report["summary"]["history"]["complete"], true);

    // Under onError=accept the secret still rejects: the content was scanned.
    s.config("tollgate.onError", "accept");
    let push = s.push(&["main", "refs/tags/treetag"]);
    assert_rejected(&s, &push, GITHUB_RULE, "refs/tags/treetag:deep/loose.env");
}

#[test]
fn an_annotated_tag_of_a_clean_blob_is_accepted() {
    let s = server_with_main();
    s.client.write("notes.txt", "release notes\n");
    let blob = s.client.git(&["hash-object", "-w", "notes.txt"]);
    s.client
        .git(&["tag", "-a", "-m", "the notes", "notes", &blob]);
    let (ok, out) = s.push(&["refs/tags/notes"]);
    assert!(ok, "{out}");
    assert!(s.server_ref("refs/tags/notes").is_some());
}

#[test]
fn a_symlink_target_is_scanned_by_the_audit_a_range_and_staged() {
    let repo = Repo::new(&[]);
    repo.commit(&[("a.txt", "a\n")], "start");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    symlink(STRIPE_KEY, repo.path.join("key-link")).unwrap();
    repo.git(&["add", "key-link"]);

    let out = tollgate()
        .args(["staged", "--no-config", "--format", "json"])
        .current_dir(&repo.path)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert_eq!(findings(&report)[0]["path"], "key-link");
    assert_eq!(findings(&report)[0]["rule_id"], STRIPE_RULE);

    let head = repo.commit(&[], "link");
    for extra in [&[][..], &["--range", "main..feature"][..]] {
        let (code, report) = audit(&repo.path, extra);
        assert_eq!(code, 1, "{extra:?}: {report}");
        assert_eq!(
            commits_of(&report, STRIPE_RULE, "key-link"),
            vec![head.clone()]
        );
    }
}

#[test]
fn a_link_retargeted_to_a_secret_is_rejected_and_to_a_file_accepted() {
    let s = server_with_main();
    symlink("config/app.env", s.client.path.join("settings")).unwrap();
    let head = s.client.commit(&[], "link the settings");
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "{out}");
    assert_eq!(s.server_ref("main").as_deref(), Some(head.as_str()));

    std::fs::remove_file(s.client.path.join("settings")).unwrap();
    symlink(github_token(), s.client.path.join("settings")).unwrap();
    s.client.commit(&[], "retarget");
    let push = s.push(&["main"]);
    assert_rejected(&s, &push, GITHUB_RULE, "settings");
}

#[test]
fn a_tag_of_a_tree_whose_blob_is_missing_leaves_the_audit_incomplete() {
    let repo = Repo::new(&[]);
    repo.commit(&[("a.txt", "a\n")], "start");
    let missing = "1234567890123456789012345678901234567890";
    let tree = {
        let mut child = std::process::Command::new("git")
            .args(["mktree", "--missing"])
            .current_dir(&repo.path)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        writeln!(
            child.stdin.take().unwrap(),
            "100644 blob {missing}\tgone.env"
        )
        .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    repo.git(&["tag", "broken", &tree]);
    let (code, report) = audit(&repo.path, &[]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(report["summary"]["history"]["complete"], false);
}
