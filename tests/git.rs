//! `tollgate git` over real repositories that each test builds with the `git` binary:
//! attribution, merges, tags, SHA-256, shallow and bare clones, worktrees, LFS pointers,
//! corrupt objects, ranges and unreachable blobs.

mod common;

use std::path::Path;
use std::process::Output;

use common::{git_in, github_token, tollgate, Repo, STRIPE_KEY};
use serde_json::Value;
use tempfile::TempDir;

fn scan(repo: &Path, extra: &[&str]) -> (i32, Value, Output) {
    let out = tollgate()
        .arg("git")
        .arg(repo)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("tollgate runs");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "json output ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().expect("exit code"), doc, out)
}

fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"].as_array().expect("findings")
}

/// (path, commit) of every finding of a rule family.
fn located(doc: &Value, rule_prefix: &str) -> Vec<(String, String)> {
    findings(doc)
        .iter()
        .filter(|f| f["rule_id"].as_str().unwrap().starts_with(rule_prefix))
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["git"]["commit"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_deleted_secret_is_found_and_attributed_to_the_commit_that_added_it() {
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# service\n")], "start");
    let token = github_token();
    let added = repo.commit(
        &[("config/.env", &format!("GITHUB_TOKEN={token}\n"))],
        "add deployment settings",
    );
    std::fs::remove_file(repo.path.join("config/.env")).unwrap();
    repo.commit(&[], "remove settings");

    let (code, doc, _) = scan(&repo.path, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        located(&doc, "github."),
        vec![("config/.env".into(), added.clone())]
    );
    let f = &findings(&doc)[0];
    assert_eq!(f["line"], 1);
    assert_eq!(f["git"]["author_name"], "Ada Author");
    assert_eq!(f["git"]["author_email"], "ada@example.org");
    assert_eq!(f["git"]["summary"], "add deployment settings");
    assert!(f["git"]["date"].as_str().unwrap().contains('T'));
    assert!(!f["secret"].as_str().unwrap().contains(&token[8..]));
    let history = &doc["summary"]["history"];
    assert_eq!(history["commits"], 3);
    assert_eq!(history["complete"], true);
    assert_eq!(history["object_format"], "sha1");

    // Human output shows commit:path:line.
    let out = tollgate().arg("git").arg(&repo.path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("{}:config/.env:1", &added[..12])),
        "{text}"
    );
}

#[test]
fn one_blob_at_two_paths_is_scanned_once_and_counts_the_other_place() {
    let repo = Repo::new(&[]);
    let content = format!("GITHUB_TOKEN={}\n", github_token());
    repo.commit(
        &[("a/.env", &content), ("b/copy.env", &content)],
        "add twice",
    );
    let (_, doc, _) = scan(&repo.path, &[]);
    let found = located(&doc, "github.");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "a/.env", "the first path in tree order");
    assert_eq!(findings(&doc)[0]["git"]["other_locations"], 1);
    assert_eq!(doc["summary"]["files_scanned"], 1);
}

#[test]
fn merges_introduce_nothing_themselves_and_branch_commits_keep_their_secrets() {
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# x\n")], "start");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let on_feature = repo.commit(
        &[("billing.env", &format!("STRIPE_KEY={STRIPE_KEY}\n"))],
        "billing",
    );
    repo.git(&["checkout", "-q", "main"]);
    repo.commit(&[("other.txt", "unrelated\n")], "main moves on");
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge feature", "feature"]);
    let (_, doc, _) = scan(&repo.path, &[]);
    assert_eq!(
        located(&doc, "stripe."),
        vec![("billing.env".into(), on_feature)]
    );
}

#[test]
fn a_commit_reachable_only_from_a_tag_is_scanned() {
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# x\n")], "start");
    repo.git(&["checkout", "-q", "-b", "tmp"]);
    let tagged = repo.commit(
        &[("release.env", &format!("GITHUB_TOKEN={}\n", github_token()))],
        "release settings",
    );
    repo.git(&["tag", "-a", "-m", "v1", "v1.0"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["branch", "-q", "-D", "tmp"]);
    let (_, doc, _) = scan(&repo.path, &[]);
    assert_eq!(
        located(&doc, "github."),
        vec![("release.env".into(), tagged)]
    );
    // Narrowed to main, the tag's history is not scanned.
    let (code, doc, _) = scan(&repo.path, &["--branch", "main"]);
    assert_eq!(code, 0);
    assert!(findings(&doc).is_empty());
}

#[test]
fn sha256_repositories_are_read() {
    let repo = Repo::new(&["--object-format=sha256"]);
    let added = repo.commit(
        &[("app.env", &format!("GITHUB_TOKEN={}\n", github_token()))],
        "settings",
    );
    assert_eq!(added.len(), 64);
    let (code, doc, _) = scan(&repo.path, &[]);
    assert_eq!(code, 1);
    assert_eq!(located(&doc, "github."), vec![("app.env".into(), added)]);
    assert_eq!(doc["summary"]["history"]["object_format"], "sha256");
}

#[test]
fn shallow_and_bare_clones_are_scanned_and_a_shallow_one_says_so() {
    let repo = Repo::new(&[]);
    repo.commit(
        &[("old.env", &format!("STRIPE_KEY={STRIPE_KEY}\n"))],
        "old secret",
    );
    std::fs::remove_file(repo.path.join("old.env")).unwrap();
    repo.commit(&[], "drop it");
    let head = repo.commit(
        &[("app.env", &format!("GITHUB_TOKEN={}\n", github_token()))],
        "new secret",
    );
    let url = format!("file://{}", repo.path.display());

    let shallow = repo.sibling("shallow");
    git_in(
        repo.path.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &url,
            shallow.to_str().unwrap(),
        ],
    );
    let (code, doc, out) = scan(&shallow, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        located(&doc, "github."),
        vec![("app.env".into(), head.clone())]
    );
    assert!(
        located(&doc, "stripe.").is_empty(),
        "history before the boundary is absent"
    );
    assert_eq!(doc["summary"]["history"]["shallow"], true);
    assert!(String::from_utf8_lossy(&out.stderr).contains("shallow"));

    let bare = repo.sibling("bare.git");
    git_in(
        repo.path.parent().unwrap(),
        &["clone", "-q", "--bare", &url, bare.to_str().unwrap()],
    );
    let (code, doc, _) = scan(&bare, &[]);
    assert_eq!(code, 1);
    assert_eq!(located(&doc, "github."), vec![("app.env".into(), head)]);
    assert_eq!(located(&doc, "stripe.").len(), 1);
    assert_eq!(doc["summary"]["history"]["shallow"], false);
}

#[test]
fn a_linked_worktree_is_a_repository_too() {
    let repo = Repo::new(&[]);
    let added = repo.commit(
        &[("app.env", &format!("GITHUB_TOKEN={}\n", github_token()))],
        "settings",
    );
    let linked = repo.sibling("linked");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        linked.to_str().unwrap(),
        "-b",
        "side",
    ]);
    let (code, doc, _) = scan(&linked, &[]);
    assert_eq!(code, 1);
    assert_eq!(located(&doc, "github."), vec![("app.env".into(), added)]);
}

#[test]
fn lfs_pointers_and_submodule_links_are_skipped_and_counted() {
    let repo = Repo::new(&[]);
    repo.commit(
        &[(
            "assets/model.bin",
            "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
        )],
        "lfs",
    );
    let head = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{head},vendor/lib"),
    ]);
    repo.git(&["commit", "-q", "-m", "submodule link"]);
    let (code, doc, _) = scan(&repo.path, &[]);
    assert_eq!(code, 0);
    assert_eq!(doc["summary"]["skipped"]["lfs_pointer"], 1);
    assert_eq!(doc["summary"]["skipped"]["submodule"], 1);
}

#[test]
fn a_corrupt_object_is_a_warning_and_the_other_findings_are_still_reported() {
    let repo = Repo::new(&[]);
    let good = repo.commit(
        &[("good.env", &format!("GITHUB_TOKEN={}\n", github_token()))],
        "good",
    );
    repo.commit(
        &[("broken.env", &format!("STRIPE_KEY={STRIPE_KEY}\n"))],
        "to be corrupted",
    );
    let blob = repo.git(&["rev-parse", "HEAD:broken.env"]);
    let loose = repo
        .path
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    let mut perms = std::fs::metadata(&loose).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&loose, perms).unwrap();
    std::fs::write(&loose, b"this is not a zlib stream").unwrap();

    let (code, doc, out) = scan(&repo.path, &[]);
    assert_eq!(code, 2, "an incomplete audit exits 2");
    assert_eq!(located(&doc, "github."), vec![("good.env".into(), good)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&blob),
        "the warning names the object: {stderr}"
    );
    assert_eq!(doc["summary"]["history"]["complete"], false);
}

#[test]
fn a_range_reports_only_what_its_commits_introduced() {
    let repo = Repo::new(&[]);
    repo.commit(
        &[("base.env", &format!("STRIPE_KEY={STRIPE_KEY}\n"))],
        "old secret on main",
    );
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.commit(&[("notes.txt", "nothing here\n")], "notes");
    let introduced = repo.commit(
        &[("new.env", &format!("GITHUB_TOKEN={}\n", github_token()))],
        "new secret",
    );
    let (code, doc, _) = scan(&repo.path, &["--range", "main..feature"]);
    assert_eq!(code, 1);
    assert_eq!(
        located(&doc, "github."),
        vec![("new.env".into(), introduced)]
    );
    assert!(located(&doc, "stripe.").is_empty());
    assert_eq!(doc["summary"]["history"]["commits"], 2);
    // The same with revision arguments.
    let (_, doc, _) = scan(&repo.path, &["feature", "^main"]);
    assert_eq!(findings(&doc).len(), 1);
}

#[test]
fn unreachable_blobs_are_scanned_only_when_asked() {
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# x\n")], "start");
    repo.write("stray.env", &format!("GITHUB_TOKEN={}\n", github_token()));
    let blob = repo.git(&["hash-object", "-w", "stray.env"]);
    std::fs::remove_file(repo.path.join("stray.env")).unwrap();
    let (code, doc, _) = scan(&repo.path, &[]);
    assert_eq!(code, 0);
    assert!(findings(&doc).is_empty());
    let (code, doc, _) = scan(&repo.path, &["--unreachable"]);
    assert_eq!(code, 1);
    let f = &findings(&doc)[0];
    assert_eq!(f["path"], format!("unreachable/{blob}"));
    assert_eq!(f["git"]["blob"], blob);
    assert_eq!(f["git"]["commit"], "");
}

#[test]
fn not_a_repository_or_a_bad_revision_is_a_clear_error() {
    let tmp = TempDir::new().unwrap();
    let out = tollgate().arg("git").arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a git repository"));

    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# x\n")], "start");
    let out = tollgate()
        .arg("git")
        .arg(&repo.path)
        .arg("no-such-branch")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-branch"));
}

#[test]
fn an_empty_repository_is_clean() {
    let repo = Repo::new(&[]);
    let (code, doc, _) = scan(&repo.path, &[]);
    assert_eq!(code, 0);
    assert_eq!(doc["summary"]["history"]["commits"], 0);
}

#[test]
fn a_partial_clone_without_its_blobs_is_an_incomplete_audit() {
    let repo = Repo::new(&[]);
    for i in 0..3 {
        repo.commit(&[(&format!("f{i}.txt"), &format!("line {i}\n"))], "add");
    }
    repo.git(&["config", "uploadpack.allowFilter", "true"]);
    let partial = repo.sibling("partial");
    git_in(
        repo.path.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--filter=blob:none",
            "--no-checkout",
            &format!("file://{}", repo.path.display()),
            partial.to_str().unwrap(),
        ],
    );
    let (code, doc, out) = scan(&partial, &[]);
    assert_eq!(code, 2);
    assert_eq!(doc["summary"]["history"]["complete"], false);
    assert_eq!(doc["summary"]["history"]["commits"], 3);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("missing blob").count(), 3, "{stderr}");
}

#[test]
fn utf16_files_are_scanned_and_a_dangling_symbolic_ref_is_ignored() {
    let repo = Repo::new(&[]);
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in format!("GITHUB_TOKEN={}\n", github_token()).encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    std::fs::write(repo.path.join("win.ps1"), &utf16).unwrap();
    let added = repo.commit(&[], "windows script");
    repo.git(&[
        "symbolic-ref",
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/pruned",
    ]);
    let (code, doc, _) = scan(&repo.path, &[]);
    assert_eq!(code, 1, "complete, with a finding");
    assert_eq!(located(&doc, "github."), vec![("win.ps1".into(), added)]);
    assert_eq!(doc["summary"]["history"]["complete"], true);
}
