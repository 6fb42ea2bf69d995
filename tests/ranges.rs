//! Changes rather than audits: `tollgate git` over a range keeps only findings on lines
//! its commits added (merges, diverged bases, secrets added then removed), and
//! `tollgate staged` scans what the index would commit, against HEAD. Every repository
//! is built by the test with the `git` binary; every secret is a fake made to the real
//! format (GitHub tokens carry a valid CRC32 checksum).

mod common;

use std::path::Path;
use std::process::Output;

use common::{github_token, tollgate, Repo, STRIPE_KEY};
use serde_json::Value;
use tempfile::TempDir;

/// A fake classic GitHub token with a valid checksum, distinct per `body` (30 chars).
fn token(body: &str) -> String {
    assert_eq!(body.len(), 30);
    let crc = u64::from(crc32fast::hash(body.as_bytes()));
    format!("ghp_{body}{}", tollgate::engine::checksum::base62(crc, 6))
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "json output ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn scan_git(repo: &Path, extra: &[&str]) -> (i32, Value, Output) {
    let out = tollgate()
        .arg("git")
        .arg(repo)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("tollgate runs");
    (out.status.code().expect("exit code"), json(&out), out)
}

/// `tollgate staged` run from `cwd`.
fn scan_staged(cwd: &Path, extra: &[&str]) -> (i32, Value, Output) {
    let out = tollgate()
        .arg("staged")
        .args(["--format", "json"])
        .args(extra)
        .current_dir(cwd)
        .output()
        .expect("tollgate runs");
    (out.status.code().expect("exit code"), json(&out), out)
}

/// (secret's first 12 characters, path, commit) of every finding, sorted.
fn found(doc: &Value) -> Vec<(String, String, String)> {
    let mut all: Vec<_> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["git"]["commit"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    all.sort();
    all
}

fn of_rule(doc: &Value, prefix: &str) -> Vec<(String, String)> {
    found(doc)
        .into_iter()
        .filter(|(rule, _, _)| rule.starts_with(prefix))
        .map(|(_, path, commit)| (path, commit))
        .collect()
}

fn suppressed(doc: &Value) -> u64 {
    doc["summary"]["suppressed_not_added"].as_u64().unwrap()
}

#[test]
fn a_range_reports_new_lines_only_and_all_lines_brings_the_old_secret_back() {
    let repo = Repo::new(&[]);
    repo.commit(
        &[(
            "app.env",
            &format!("STRIPE_KEY={STRIPE_KEY}\nLOG_LEVEL=info\n"),
        )],
        "settings, with a secret that predates the change",
    );
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let new_token = token("Rk4vTq8LzW2nXc6YbP0sHd3JfM9aGe");
    let added = repo.commit(
        &[(
            "app.env",
            &format!("STRIPE_KEY={STRIPE_KEY}\nLOG_LEVEL=info\nGITHUB_TOKEN={new_token}\n"),
        )],
        "add a token",
    );
    // A second edit of the same file: its previous version is itself in the range.
    repo.commit(
        &[(
            "app.env",
            &format!("STRIPE_KEY={STRIPE_KEY}\nLOG_LEVEL=debug\nGITHUB_TOKEN={new_token}\n"),
        )],
        "more logs",
    );

    let (code, doc, _) = scan_git(&repo.path, &["--range", "main..feature"]);
    assert_eq!(code, 1);
    assert_eq!(
        of_rule(&doc, "github."),
        vec![("app.env".into(), added.clone())],
        "the token once, at the commit that added it"
    );
    assert!(of_rule(&doc, "stripe.").is_empty(), "{:?}", found(&doc));
    // Both versions hold the Stripe key, the second the token too, on lines not added.
    assert_eq!(suppressed(&doc), 3);
    assert_eq!(doc["summary"]["history"]["added_lines_only"], true);
    // The human summary line says so.
    let human = tollgate()
        .arg("git")
        .arg(&repo.path)
        .args(["--range", "main..feature"])
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&human.stdout);
    assert!(
        human.contains("suppressed 3 on lines the change did not add"),
        "{human}"
    );

    // Revision arguments that exclude history are a range too.
    for revisions in [&["main..feature"][..], &["feature", "^main"]] {
        let (_, doc, _) = scan_git(&repo.path, revisions);
        assert!(of_rule(&doc, "stripe.").is_empty(), "{revisions:?}");
        assert_eq!(of_rule(&doc, "github.").len(), 1, "{revisions:?}");
    }

    // The off switch reports every line of every blob the range introduced.
    let (code, doc, _) = scan_git(&repo.path, &["--range", "main..feature", "--all-lines"]);
    assert_eq!(code, 1);
    assert_eq!(of_rule(&doc, "stripe.").len(), 2, "{:?}", found(&doc));
    assert_eq!(of_rule(&doc, "github.").len(), 2);
    assert_eq!(suppressed(&doc), 0);
    assert_eq!(doc["summary"]["history"]["added_lines_only"], false);

    // A full audit reports each secret once, where it first appeared (`--added-lines-only`
    // says so explicitly); `--all-lines` reports it in every version of its file.
    let main = repo.git(&["rev-parse", "main"]);
    for flags in [&[][..], &["--added-lines-only"]] {
        let (_, doc, _) = scan_git(&repo.path, flags);
        assert_eq!(
            of_rule(&doc, "stripe."),
            vec![("app.env".into(), main.clone())]
        );
        assert_eq!(
            of_rule(&doc, "github."),
            vec![("app.env".into(), added.clone())]
        );
    }
    let (_, doc, _) = scan_git(&repo.path, &["--all-lines"]);
    assert_eq!(of_rule(&doc, "stripe.").len(), 3);
}

#[test]
fn a_secret_added_then_removed_within_the_range_is_still_reported() {
    let repo = Repo::new(&[]);
    repo.commit(&[("app.env", "LOG_LEVEL=info\n")], "settings");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let t = token("Hn5cVq2WmZ8xLr4TbK7pYd1GfS3jAe");
    let added = repo.commit(
        &[("app.env", &format!("LOG_LEVEL=info\nGITHUB_TOKEN={t}\n"))],
        "oops",
    );
    repo.commit(&[("app.env", "LOG_LEVEL=info\n")], "take it out again");
    let (code, doc, _) = scan_git(&repo.path, &["--range", "main..feature"]);
    assert_eq!(code, 1);
    assert_eq!(of_rule(&doc, "github."), vec![("app.env".into(), added)]);
}

#[test]
fn a_merge_in_the_range_answers_only_for_the_lines_it_adds_itself() {
    let repo = Repo::new(&[]);
    let lines = "first=1\nsecond=2\nthird=3\nfourth=4\nfifth=5\n";
    repo.commit(&[("config.env", lines)], "start");
    // main gets a secret near the top of the file...
    let on_main = repo.commit(
        &[(
            "config.env",
            &lines.replace("first=1", &format!("STRIPE_KEY={STRIPE_KEY}")),
        )],
        "main: billing key",
    );
    // ...the feature branch, from before it, one near the bottom.
    repo.git(&["checkout", "-q", "-b", "feature", "HEAD~1"]);
    let feature_token = token("Pw7bNx3KqL9mVd2RtZ5cYh8JsG4fAe");
    let on_feature = repo.commit(
        &[(
            "config.env",
            &lines.replace("fifth=5", &format!("GITHUB_TOKEN={feature_token}")),
        )],
        "feature: token",
    );
    // Merging main into the feature: git merges the file line by line, and the merge
    // commit adds one more secret of its own while resolving.
    repo.git(&["merge", "-q", "--no-commit", "main"]);
    let merged = std::fs::read_to_string(repo.path.join("config.env")).unwrap();
    assert!(merged.contains(STRIPE_KEY) && merged.contains(&feature_token));
    let evil = token("Yt6gMr1XsQ8kBn4WdL2vHc9ZpF5jKe");
    let merge = repo.commit(
        &[("config.env", &format!("{merged}EXTRA_TOKEN={evil}\n"))],
        "merge main into feature",
    );
    assert_eq!(
        repo.git(&["rev-list", "--parents", "-n1", "HEAD"])
            .split(' ')
            .count(),
        3
    );

    // The merge request: what main brought in through the merge is main's, not the
    // request's; the feature's token is its own commit's; the merge answers for its line.
    let (code, doc, _) = scan_git(&repo.path, &["--range", "main..feature"]);
    assert_eq!(code, 1);
    assert!(of_rule(&doc, "stripe.").is_empty(), "{:?}", found(&doc));
    let mut tokens = of_rule(&doc, "github.");
    tokens.sort();
    let mut expected = vec![
        ("config.env".to_string(), on_feature.clone()),
        ("config.env".to_string(), merge.clone()),
    ];
    expected.sort();
    assert_eq!(tokens, expected);
    let at_merge: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["git"]["commit"] == merge.as_str())
        .collect();
    assert_eq!(at_merge.len(), 1);
    assert!(at_merge[0]["snippet"]
        .as_str()
        .unwrap()
        .contains("EXTRA_TOKEN"));

    // The whole history, each side's secret once, at its own commit.
    let (_, doc, _) = scan_git(&repo.path, &["--added-lines-only"]);
    assert_eq!(
        of_rule(&doc, "stripe."),
        vec![("config.env".into(), on_main)]
    );
    assert_eq!(of_rule(&doc, "github.").len(), 2);

    // Compared with its first parent only, the merged file would hold main's key anew.
    let (_, doc, _) = scan_git(&repo.path, &["--range", "main..feature", "--all-lines"]);
    assert_eq!(of_rule(&doc, "stripe."), vec![("config.env".into(), merge)]);
}

#[test]
fn a_base_that_is_not_an_ancestor_counts_only_the_head_side() {
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# service\n")], "start");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let t = token("Dq9wLs4NcV7bXz1KmR6tYp3HgF8jAe");
    let on_feature = repo.commit(
        &[("feature.env", &format!("GITHUB_TOKEN={t}\n"))],
        "feature: token",
    );
    repo.git(&["checkout", "-q", "main"]);
    let on_main = repo.commit(
        &[("billing.env", &format!("STRIPE_KEY={STRIPE_KEY}\n"))],
        "main moves on with a key",
    );
    // main..feature is what feature has that main lacks: main's own commit is not in it.
    let (code, doc, _) = scan_git(&repo.path, &["--range", "main..feature"]);
    assert_eq!(code, 1);
    assert_eq!(
        of_rule(&doc, "github."),
        vec![("feature.env".into(), on_feature.clone())]
    );
    assert!(of_rule(&doc, "stripe.").is_empty());
    assert_eq!(doc["summary"]["history"]["commits"], 1);
    // The symmetric difference has both sides.
    let (_, doc, _) = scan_git(&repo.path, &["main...feature"]);
    assert_eq!(
        of_rule(&doc, "stripe."),
        vec![("billing.env".into(), on_main)]
    );
    assert_eq!(
        of_rule(&doc, "github."),
        vec![("feature.env".into(), on_feature)]
    );
    assert_eq!(doc["summary"]["history"]["commits"], 2);
}

#[test]
fn added_lines_only_and_all_lines_exclude_each_other() {
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# x\n")], "start");
    let out = tollgate()
        .arg("git")
        .arg(&repo.path)
        .args(["--added-lines-only", "--all-lines"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_staged_new_file_with_a_secret_blocks_and_unstaged_edits_are_not_read() {
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# service\n")], "start");
    let t = token("Lm3kQz8VtB1nWx6CrY4pHs9DgJ2fAe");
    repo.write("app.env", &format!("LOG_LEVEL=info\nGITHUB_TOKEN={t}\n"));
    repo.git(&["add", "app.env"]);
    // Take it out of the work tree without staging that: the index still has it.
    repo.write("app.env", "LOG_LEVEL=info\n");
    let (code, doc, _) = scan_staged(&repo.path, &[]);
    assert_eq!(code, 1);
    let f = &doc["findings"][0];
    assert_eq!(f["path"], "app.env");
    assert_eq!(f["line"], 2);
    assert!(f["git"].is_null(), "staged content has no commit: {f}");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    assert_eq!(doc["summary"]["files_scanned"], 1);

    // A secret only in the work tree is not staged: not scanned.
    repo.git(&["reset", "-q"]);
    repo.write("other.env", &format!("STRIPE_KEY={STRIPE_KEY}\n"));
    let (code, doc, _) = scan_staged(&repo.path, &[]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["summary"]["files_scanned"], 0);

    // Human output names the path, then line and column, without a commit.
    repo.git(&["add", "other.env"]);
    let out = tollgate()
        .arg("staged")
        .current_dir(&repo.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("other.env\n  1:12"), "{text}");
}

#[test]
fn a_staged_edit_that_leaves_an_old_secret_alone_passes() {
    let repo = Repo::new(&[]);
    repo.commit(
        &[(
            "app.env",
            &format!("STRIPE_KEY={STRIPE_KEY}\nLOG_LEVEL=info\n"),
        )],
        "settings",
    );
    repo.write(
        "app.env",
        &format!("LOG_LEVEL=debug\nSTRIPE_KEY={STRIPE_KEY}\n"),
    );
    repo.git(&["add", "app.env"]);
    let (code, doc, _) = scan_staged(&repo.path, &[]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(suppressed(&doc), 1);
    assert_eq!(doc["summary"]["files_scanned"], 1);
    let (code, doc, _) = scan_staged(&repo.path, &["--all-lines"]);
    assert_eq!(code, 1);
    assert_eq!(of_rule(&doc, "stripe.").len(), 1);

    // The same edit adding a token: only the token is reported.
    repo.write(
        "app.env",
        &format!(
            "LOG_LEVEL=debug\nSTRIPE_KEY={STRIPE_KEY}\nGITHUB_TOKEN={}\n",
            github_token()
        ),
    );
    repo.git(&["add", "app.env"]);
    let (code, doc, _) = scan_staged(&repo.path, &[]);
    assert_eq!(code, 1);
    let all = found(&doc);
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].0.starts_with("github."));
    assert_eq!(doc["findings"][0]["line"], 3);
}

#[test]
fn the_first_commit_is_scanned_in_full_from_any_subdirectory() {
    let repo = Repo::new(&[]);
    repo.write(
        "deploy/config/app.env",
        &format!("STRIPE_KEY={STRIPE_KEY}\n"),
    );
    repo.write("src/main.rs", "fn main() {}\n");
    repo.git(&["add", "-A"]);
    let (code, doc, _) = scan_staged(&repo.path.join("src"), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        of_rule(&doc, "stripe."),
        vec![("deploy/config/app.env".into(), String::new())]
    );
    assert_eq!(doc["summary"]["files_scanned"], 2);
    // `--repo` names the repository (or a directory in it) from elsewhere.
    let (code, doc, _) = scan_staged(
        repo.path.parent().unwrap(),
        &["--repo", repo.path.join("deploy").to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert_eq!(of_rule(&doc, "stripe.")[0].0, "deploy/config/app.env");
}

#[test]
fn deletions_links_submodules_and_intent_to_add_entries_are_passed_over() {
    let repo = Repo::new(&[]);
    let head = repo.commit(
        &[
            ("old.env", &format!("STRIPE_KEY={STRIPE_KEY}\n")),
            ("README.md", "# x\n"),
        ],
        "start",
    );
    repo.git(&["rm", "-q", "old.env"]);
    std::os::unix::fs::symlink("README.md", repo.path.join("link.md")).unwrap();
    repo.git(&["add", "link.md"]);
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{head},vendor/lib"),
    ]);
    repo.write("later.env", &format!("GITHUB_TOKEN={}\n", github_token()));
    repo.git(&["add", "-N", "later.env"]);
    let (code, doc, out) = scan_staged(&repo.path, &["-v"]);
    assert_eq!(code, 0, "{doc}");
    // The link's target text is scanned like a small file (it is clean here).
    assert_eq!(doc["summary"]["files_scanned"], 1);
    assert_eq!(doc["summary"]["skipped"]["symlink"], 0);
    assert_eq!(doc["summary"]["skipped"]["submodule"], 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("later.env") && stderr.contains("git add -N"),
        "{stderr}"
    );
    // Once its content is staged, it is scanned.
    repo.git(&["add", "later.env"]);
    let (code, _, _) = scan_staged(&repo.path, &[]);
    assert_eq!(code, 1);
}

#[test]
fn utf16_and_manifests_are_read_as_the_history_scan_reads_them() {
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# x\n")], "start");
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in format!("GITHUB_TOKEN={}\n", github_token()).encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    std::fs::write(repo.path.join("win.ps1"), &utf16).unwrap();
    let t = token("Vb8nCx2ZqW5mLk9TrH3yPd6GsJ1fAe");
    repo.write(
        "k8s/deploy.yaml",
        &format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: payments\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          env:\n            - name: GITHUB_TOKEN\n              value: {t}\n"
        ),
    );
    // Skipped for its content (a NUL in its header), not for its name.
    repo.write("logo.png", "\u{7f}PNG\r\n\u{1a}\n\0\0\0\rIHDR\n");
    repo.git(&["add", "-A"]);
    let (code, doc, _) = scan_staged(&repo.path, &[]);
    assert_eq!(code, 1);
    let paths: Vec<String> = found(&doc).into_iter().map(|f| f.1).collect();
    assert!(paths.contains(&"win.ps1".to_string()), "{paths:?}");
    let manifest = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "k8s/deploy.yaml" && f["rule_id"] == "github.pat-classic")
        .expect("the manifest's token");
    assert_eq!(manifest["k8s"]["kind"], "Deployment");
    assert_eq!(manifest["k8s"]["namespace"], "payments");
    assert_eq!(manifest["k8s"]["env"], "GITHUB_TOKEN");
    assert_eq!(doc["summary"]["skipped"]["binary"], 1);
}

#[test]
fn a_conflict_is_a_warning_and_a_missing_blob_an_incomplete_scan() {
    let repo = Repo::new(&[]);
    repo.commit(&[("app.env", "LOG_LEVEL=info\n")], "start");
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.commit(&[("app.env", "LOG_LEVEL=debug\n")], "side");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit(&[("app.env", "LOG_LEVEL=warn\n")], "main");
    let (ok, _, _) = common::git_output(&repo.path, &["merge", "-q", "side"]);
    assert!(!ok, "the merge conflicts");
    let (code, doc, out) = scan_staged(&repo.path, &[]);
    assert_eq!(code, 0, "{doc}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("app.env: unmerged"), "{stderr}");
    assert_eq!(doc["summary"]["warnings"], 1);
    repo.git(&["merge", "--abort"]);

    // An index entry whose blob is not in the object database.
    let missing = "0123456789abcdef0123456789abcdef01234567";
    repo.git(&[
        "update-index",
        "--add",
        "--info-only",
        "--cacheinfo",
        &format!("100644,{missing},ghost.env"),
    ]);
    let (code, doc, out) = scan_staged(&repo.path, &[]);
    assert_eq!(code, 2, "{doc}");
    assert!(String::from_utf8_lossy(&out.stderr).contains(missing));
    assert_eq!(doc["summary"]["skipped"]["unreadable"], 1);
}

#[test]
fn staged_outside_a_repository_or_in_a_bare_one_is_a_clear_error() {
    let tmp = TempDir::new().unwrap();
    let out = tollgate()
        .arg("staged")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a git repository"));

    let broken = Repo::new(&[]);
    broken.write("a.txt", "a\n");
    broken.git(&["add", "a.txt"]);
    std::fs::write(broken.path.join(".git/index"), "not an index").unwrap();
    let out = tollgate()
        .arg("staged")
        .current_dir(&broken.path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the index"));

    let bare = tmp.path().join("bare.git");
    common::git_in(
        tmp.path(),
        &["init", "-q", "--bare", bare.to_str().unwrap()],
    );
    let out = tollgate()
        .args(["staged", "--repo"])
        .arg(&bare)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bare repository"));
}

#[test]
fn concluding_a_merge_does_not_blame_the_commit_for_the_other_side() {
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# x\n")], "start");
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.commit(
        &[("side.env", &format!("STRIPE_KEY={STRIPE_KEY}\n"))],
        "side: billing key",
    );
    repo.git(&["checkout", "-q", "main"]);
    repo.commit(&[("other.txt", "main moves on\n")], "main");
    repo.git(&["merge", "-q", "--no-commit", "--no-ff", "side"]);
    // side.env is staged and new to HEAD, but the merged head already has it.
    let (code, doc, _) = scan_staged(&repo.path, &[]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(suppressed(&doc), 1);
    let (code, _, _) = scan_staged(&repo.path, &["--all-lines"]);
    assert_eq!(code, 1);
}

#[test]
fn a_grant_made_risky_on_another_line_is_reported_at_the_commit_that_did_it() {
    let role = |verbs: &str, label: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\n  labels:\n    team: {label}\nrules:\n  - apiGroups: [\"\"]\n    resources: [\"secrets\"]\n    verbs: [{verbs}]\n"
        )
    };
    let repo = Repo::new(&[]);
    repo.commit(&[("rbac/role.yaml", &role("\"create\"", "a"))], "harmless");
    // Only the verbs line changes; the finding sits on the `resources` line.
    let risky = repo.commit(
        &[("rbac/role.yaml", &role("\"get\", \"list\"", "a"))],
        "read",
    );
    // An unrelated edit of the risky role is not reported again.
    repo.commit(
        &[("rbac/role.yaml", &role("\"get\", \"list\"", "b"))],
        "relabel",
    );
    let (_, doc, _) = scan_git(&repo.path, &[]);
    assert_eq!(
        of_rule(&doc, "k8s.rbac-secrets-access"),
        vec![("rbac/role.yaml".into(), risky)],
        "{:?}",
        found(&doc)
    );
}

#[test]
fn an_earlier_version_that_was_binary_does_not_hide_a_secret() {
    let repo = Repo::new(&[]);
    let t = token("Wq7cVq2WmZ8xLr4TbK7pYd1GfS3jAe");
    // The first version has a NUL byte, so it is skipped as binary; the second is text.
    repo.commit(&[("app.env", &format!("\0\nGITHUB_TOKEN={t}\n"))], "blob");
    let text = repo.commit(&[("app.env", &format!("GITHUB_TOKEN={t}\n"))], "text");
    let (code, doc, _) = scan_git(&repo.path, &[]);
    assert_eq!(code, 1);
    assert_eq!(of_rule(&doc, "github."), vec![("app.env".into(), text)]);
}
