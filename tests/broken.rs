//! Broken repositories: each test builds one with `git`, then truncates, removes or
//! overwrites an object, a ref or the index. Whatever cannot be read must end as a
//! warning naming it and an incomplete result (`history.complete: false`, exit 2), never
//! as less work reported as success; a baseline is never pruned from such a scan.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{git_in, github_token, tollgate, Repo};
use serde_json::Value;

/// The missing object every test that needs one names: no repository here has it.
const NO_SUCH_OBJECT: &str = "0123456789abcdef0123456789abcdef01234567";

fn scan(repo: &Path, extra: &[&str]) -> (i32, Value, String) {
    let out = tollgate()
        .arg("git")
        .arg(repo)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("tollgate runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("json output ({e}); stderr: {stderr}"));
    (out.status.code().expect("exit code"), doc, stderr)
}

/// Scan, and insist on an incomplete audit whose warnings name `named`.
fn assert_incomplete(repo: &Path, extra: &[&str], named: &str) -> Value {
    let (code, doc, stderr) = scan(repo, extra);
    assert_eq!(code, 2, "an incomplete audit exits 2; stderr: {stderr}");
    assert_eq!(
        doc["summary"]["history"]["complete"], false,
        "stderr: {stderr}"
    );
    assert!(
        stderr.contains("warning") && stderr.contains(named),
        "a warning names {named}: {stderr}"
    );
    assert!(doc["summary"]["warnings"].as_u64().unwrap() >= 1);
    doc
}

/// Two commits: a README, then a secret in a subdirectory; returns the repository.
fn two_commits() -> Repo {
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# service\n")], "start");
    repo.commit(
        &[(
            "config/app.env",
            &format!("GITHUB_TOKEN={}\n", github_token()),
        )],
        "settings",
    );
    repo
}

fn loose(repo: &Repo, id: &str) -> PathBuf {
    repo.path.join(".git/objects").join(&id[..2]).join(&id[2..])
}

fn make_writable(path: &Path) {
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(path, perms).unwrap();
}

/// Cut a loose object to its first bytes, as a crash or a full disk would.
fn truncate_loose(repo: &Repo, id: &str) {
    let path = loose(repo, id);
    make_writable(&path);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..10]).unwrap();
}

fn remove_loose(repo: &Repo, id: &str) {
    std::fs::remove_file(loose(repo, id)).unwrap();
}

/// Pack everything, then overwrite the compressed data of the pack's first entry;
/// returns that entry's id.
fn corrupt_first_pack_entry(repo: &Repo) -> String {
    repo.git(&["repack", "-adq"]);
    let pack_dir = repo.path.join(".git/objects/pack");
    let pack = std::fs::read_dir(&pack_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .expect("a pack");
    let index = pack.with_extension("idx");
    let listing = repo.git(&["verify-pack", "-v", index.to_str().unwrap()]);
    // `id type size size-in-pack offset`, for objects only.
    let (id, offset) = listing
        .lines()
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            (fields.len() >= 5 && fields[0].len() == 40)
                .then(|| (fields[0].to_string(), fields[4].parse::<usize>().unwrap()))
        })
        .min_by_key(|(_, offset)| *offset)
        .expect("pack entries");
    make_writable(&pack);
    let mut bytes = std::fs::read(&pack).unwrap();
    // Past the entry's one- or two-byte header, into the zlib stream.
    for b in &mut bytes[offset + 2..offset + 10] {
        *b = 0xFF;
    }
    std::fs::write(&pack, bytes).unwrap();
    id
}

#[test]
fn a_truncated_loose_tip_commit_is_an_incomplete_audit_and_prunes_nothing() {
    let repo = two_commits();
    let baseline_file = repo.sibling("baseline.json");
    let created = tollgate()
        .args(["baseline", "create", "git"])
        .arg(&repo.path)
        .arg("-o")
        .arg(&baseline_file)
        .output()
        .unwrap();
    assert_eq!(created.status.code(), Some(0));
    let before = std::fs::read_to_string(&baseline_file).unwrap();
    assert!(before.contains("config/app.env"));

    let tip = repo.git(&["rev-parse", "HEAD"]);
    truncate_loose(&repo, &tip);
    let doc = assert_incomplete(&repo.path, &[], &tip);
    assert_eq!(doc["summary"]["history"]["commits"], 0);
    let human = tollgate().arg("git").arg(&repo.path).output().unwrap();
    assert_eq!(human.status.code(), Some(2));
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("0 findings") && text.contains("INCOMPLETE"),
        "{text}"
    );

    // The finding is not in what was read, so its entry looks stale: it must stay.
    let pruned = tollgate()
        .args(["baseline", "prune", "git"])
        .arg(&repo.path)
        .arg("--baseline")
        .arg(&baseline_file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&pruned.stderr);
    assert_eq!(pruned.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("left unchanged"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&baseline_file).unwrap(), before);

    // A baseline made from what could be read is written, and the exit status says it
    // is not the whole story.
    let made = repo.sibling("partial-baseline.json");
    let created = tollgate()
        .args(["baseline", "create", "git"])
        .arg(&repo.path)
        .arg("-o")
        .arg(&made)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&created.stderr);
    assert_eq!(created.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not complete"), "{stderr}");
    assert!(made.exists());
}

#[test]
fn sarif_and_gitlab_reports_of_an_incomplete_audit_are_not_a_clean_pass() {
    let repo = two_commits();
    let report = |format: &str| -> Value {
        let out = tollgate()
            .arg("git")
            .arg(&repo.path)
            .args(["--format", format])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let sarif = report("sarif");
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    assert_eq!(report("gitlab")["scan"]["status"], "success");

    truncate_loose(&repo, &repo.git(&["rev-parse", "HEAD"]));
    let sarif = report("sarif");
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert!(
        invocation["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("incomplete")
    );
    let gitlab = report("gitlab");
    assert_eq!(gitlab["scan"]["status"], "failure");
}

#[test]
fn a_corrupt_first_pack_entry_is_an_incomplete_audit() {
    let repo = two_commits();
    let tip = repo.git(&["rev-parse", "HEAD"]);
    let first = corrupt_first_pack_entry(&repo);
    assert_eq!(first, tip, "git writes the tip commit first");
    let doc = assert_incomplete(&repo.path, &[], &tip);
    assert_eq!(doc["summary"]["history"]["commits"], 0);
    // A full-history scan of a named branch ends the same way.
    assert_incomplete(&repo.path, &["main"], &tip);
}

#[test]
fn a_missing_tree_subtree_blob_or_parent_is_an_incomplete_audit() {
    type Break = fn(&Repo) -> String;
    let cases: [(&str, Break); 4] = [
        ("root tree", |r| r.git(&["rev-parse", "HEAD^{tree}"])),
        ("subtree", |r| r.git(&["rev-parse", "HEAD:config"])),
        ("blob", |r| r.git(&["rev-parse", "HEAD:config/app.env"])),
        ("parent commit", |r| r.git(&["rev-parse", "HEAD^"])),
    ];
    for (what, object) in cases {
        let repo = two_commits();
        let id = object(&repo);
        remove_loose(&repo, &id);
        let (code, doc, stderr) = scan(&repo.path, &[]);
        assert_eq!(code, 2, "{what}: {stderr}");
        assert_eq!(doc["summary"]["history"]["complete"], false, "{what}");
        assert!(
            stderr.contains(&id),
            "{what}: the warning names it: {stderr}"
        );
    }
}

#[test]
fn refs_that_cannot_be_read_make_the_audit_incomplete() {
    // A loose ref with garbage in it.
    let repo = two_commits();
    std::fs::write(repo.path.join(".git/refs/heads/broken"), "garbage\n").unwrap();
    assert_incomplete(&repo.path, &[], "refs/heads/broken");

    // A loose ref to an object the repository does not have.
    let repo = two_commits();
    std::fs::write(
        repo.path.join(".git/refs/heads/gone"),
        format!("{NO_SUCH_OBJECT}\n"),
    )
    .unwrap();
    assert_incomplete(&repo.path, &[], NO_SUCH_OBJECT);

    // packed-refs: a line that does not parse, and an entry to a missing object.
    let repo = two_commits();
    repo.git(&["pack-refs", "--all"]);
    let packed = repo.path.join(".git/packed-refs");
    let mut text = std::fs::read_to_string(&packed).unwrap();
    text.push_str(&format!("{NO_SUCH_OBJECT} refs/heads/gone\n"));
    std::fs::write(&packed, &text).unwrap();
    assert_incomplete(&repo.path, &[], NO_SUCH_OBJECT);
    text.push_str("zzzz refs/heads/garbled\n");
    std::fs::write(&packed, &text).unwrap();
    assert_incomplete(&repo.path, &[], "packed");

    // A packed-refs that is not a file at all: no ref can be listed.
    let repo = two_commits();
    repo.git(&["pack-refs", "--all"]);
    let packed = repo.path.join(".git/packed-refs");
    std::fs::remove_file(&packed).unwrap();
    std::fs::create_dir(&packed).unwrap();
    assert_incomplete(&repo.path, &[], "packed");

    // A detached HEAD to a missing object, and a HEAD that is not a ref at all.
    let repo = two_commits();
    std::fs::write(repo.path.join(".git/HEAD"), format!("{NO_SUCH_OBJECT}\n")).unwrap();
    assert_incomplete(&repo.path, &[], NO_SUCH_OBJECT);
    std::fs::write(repo.path.join(".git/HEAD"), "garbage\n").unwrap();
    assert_incomplete(&repo.path, &[], "HEAD");
}

#[test]
fn an_annotated_tag_whose_target_is_missing_makes_the_audit_incomplete() {
    let repo = two_commits();
    repo.git(&["checkout", "-q", "-b", "release"]);
    repo.commit(&[("release.txt", "1.0\n")], "release");
    repo.git(&["tag", "-a", "-m", "release 1.0", "v1.0"]);
    let target = repo.git(&["rev-parse", "release"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["branch", "-q", "-D", "release"]);
    remove_loose(&repo, &target);
    let (_, _, stderr) = scan(&repo.path, &[]);
    assert!(stderr.contains("refs/tags/v1.0"), "{stderr}");
    assert_incomplete(&repo.path, &[], &target);
    // Named on the command line, too.
    assert_incomplete(&repo.path, &["v1.0"], &target);
}

#[test]
fn a_named_revision_that_cannot_be_read_is_incomplete_and_one_that_names_nothing_an_error() {
    let repo = two_commits();
    let out = tollgate()
        .arg("git")
        .arg(&repo.path)
        .arg("no-such-branch")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-branch"));

    let tip = repo.git(&["rev-parse", "HEAD"]);
    truncate_loose(&repo, &tip);
    assert_incomplete(&repo.path, &["main"], &tip);
    assert_incomplete(&repo.path, &[&tip], &tip);
}

#[test]
fn a_range_whose_base_or_head_cannot_be_read_is_incomplete() {
    // The head: nothing of the range can be read.
    let repo = two_commits();
    let base = repo.git(&["rev-parse", "HEAD^"]);
    let head = repo.git(&["rev-parse", "HEAD"]);
    truncate_loose(&repo, &head);
    let doc = assert_incomplete(&repo.path, &["--range", &format!("{base}..main")], &head);
    assert_eq!(doc["summary"]["history"]["commits"], 0);

    // The base: the first commit of the range has nothing to be compared with.
    let repo = two_commits();
    repo.commit(&[("later.txt", "more\n")], "later");
    let base = repo.git(&["rev-parse", "HEAD~2"]);
    truncate_loose(&repo, &base);
    assert_incomplete(&repo.path, &["--range", &format!("{base}..main")], &base);
}

#[test]
fn a_dangling_symbolic_ref_still_leaves_the_audit_complete() {
    let repo = two_commits();
    repo.git(&[
        "symbolic-ref",
        "refs/remotes/origin/HEAD",
        "refs/remotes/origin/pruned",
    ]);
    let (code, doc, stderr) = scan(&repo.path, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(doc["summary"]["history"]["complete"], true);
    assert!(stderr.contains("refs/remotes/origin/pruned"), "{stderr}");
}

#[test]
fn a_tag_of_a_blob_or_a_tree_is_scanned_at_the_tag_name() {
    let repo = two_commits();
    let stray = format!("STRIPE_KEY={}\n", common::STRIPE_KEY);
    repo.write("loose/stripe.env", &stray);
    let blob = repo.git(&["hash-object", "-w", "loose/stripe.env"]);
    repo.git(&["tag", "keyblob", &blob]);
    // A tree that no commit has, tagged with an annotated tag.
    repo.git(&["add", "loose/stripe.env"]);
    repo.git(&["rm", "-q", "--cached", "config/app.env"]);
    let tree = repo.git(&["write-tree"]);
    repo.git(&["reset", "-q"]);
    repo.git(&["tag", "-a", "-m", "a tree", "treetag", &tree]);
    std::fs::remove_dir_all(repo.path.join("loose")).unwrap();

    let (code, doc, stderr) = scan(&repo.path, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(doc["summary"]["history"]["complete"], true);
    let paths: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    // The stripe blob is both tagged and in the tagged tree: reported once, at the first
    // name read. The tree's other blobs are the committed ones: not again.
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(paths.contains(&"config/app.env"), "{paths:?}");
    assert!(
        paths
            .iter()
            .any(|p| *p == "refs/tags/keyblob" || *p == "refs/tags/treetag:loose/stripe.env"),
        "{paths:?}"
    );
    // Named on the command line, too; and not again as unreachable.
    let (code, doc, _) = scan(&repo.path, &["keyblob"]);
    assert_eq!(code, 1);
    assert_eq!(doc["findings"][0]["path"], "keyblob");
    let (_, doc, _) = scan(&repo.path, &["--unreachable"]);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 2);
}

fn staged(repo: &Repo) -> Output {
    tollgate()
        .arg("staged")
        .current_dir(&repo.path)
        .output()
        .unwrap()
}

/// A commit, then a secret staged for the next one.
fn staged_secret() -> Repo {
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# service\n")], "start");
    repo.write("app.env", &format!("GITHUB_TOKEN={}\n", github_token()));
    repo.git(&["add", "app.env"]);
    repo
}

#[test]
fn staged_errors_when_the_index_or_head_cannot_be_read() {
    let repo = staged_secret();
    assert_eq!(staged(&repo).status.code(), Some(1), "the secret is found");

    let index = repo.path.join(".git/index");
    let good = std::fs::read(&index).unwrap();
    let check = |what: &str, expected: &str| {
        let out = staged(&repo);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains(expected), "{what}: {stderr}");
    };
    std::fs::write(&index, &good[..good.len() / 2]).unwrap();
    check("a truncated index", "index");
    let mut flipped = good.clone();
    let at = flipped.len() - 30;
    flipped[at] ^= 0xFF;
    std::fs::write(&index, &flipped).unwrap();
    check("a corrupt index", "index");
    std::fs::remove_file(&index).unwrap();
    check("no index with a HEAD", "no index");
    std::fs::write(&index, &good).unwrap();

    let head = repo.git(&["rev-parse", "HEAD"]);
    truncate_loose(&repo, &head);
    check("an unreadable HEAD commit", &head);
    std::fs::write(
        repo.path.join(".git/refs/heads/main"),
        format!("{NO_SUCH_OBJECT}\n"),
    )
    .unwrap();
    check("HEAD to a missing commit", NO_SUCH_OBJECT);
}

#[test]
fn staged_reports_an_unreadable_staged_blob_and_an_empty_new_repository_is_clean() {
    let repo = staged_secret();
    let blob = repo.git(&["rev-parse", ":app.env"]);
    truncate_loose(&repo, &blob);
    let out = staged(&repo);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&blob), "{stderr}");

    // Before the first `git add` there is no index, and nothing is staged.
    let fresh = Repo::new(&[]);
    assert!(!fresh.path.join(".git/index").exists());
    assert_eq!(staged(&fresh).status.code(), Some(0));
}

/// `tollgate pre-receive` run by hand in a bare repository (no quarantine: the objects
/// are the repository's own), told that `new` is pushed to `refs/heads/main`.
fn pre_receive(bare: &Path, new: &str, on_error: &str) -> Output {
    git_in(bare, &["config", "tollgate.onError", on_error]);
    tollgate()
        .arg("pre-receive")
        .env("GIT_DIR", bare)
        .write_stdin(format!("{NO_SUCH_OBJECT} {new} refs/heads/main\n"))
        .output()
        .unwrap()
}

fn bare_clone(repo: &Repo) -> PathBuf {
    let bare = repo.sibling("server.git");
    git_in(
        repo.path.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--bare",
            repo.path.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    bare
}

#[test]
fn the_hook_treats_a_pushed_object_it_cannot_read_as_not_fully_scanned() {
    let repo = two_commits();
    let bare = bare_clone(&repo);
    let tip = git_in(&bare, &["rev-parse", "HEAD"]);
    let path = bare.join("objects").join(&tip[..2]).join(&tip[2..]);
    make_writable(&path);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..10]).unwrap();

    let out = pre_receive(&bare, &tip, "reject");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&tip),
        "the message names the object: {stderr}"
    );
    let out = pre_receive(&bare, &tip, "accept");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("without a complete secret scan"),
        "{stderr}"
    );
    let log = std::fs::read_to_string(bare.join("tollgate-audit.jsonl")).unwrap();
    assert!(log.contains("error-accept"), "{log}");
}

#[test]
fn the_hook_treats_a_pushed_tag_whose_target_is_missing_as_not_fully_scanned() {
    let repo = two_commits();
    repo.git(&["tag", "-a", "-m", "release", "v1.0"]);
    let bare = bare_clone(&repo);
    let tag = git_in(&bare, &["rev-parse", "v1.0"]);
    let target = git_in(&bare, &["rev-parse", "v1.0^{commit}"]);
    // A local clone copies the loose objects as they are.
    std::fs::remove_file(bare.join("objects").join(&target[..2]).join(&target[2..])).unwrap();
    let (ok, _, _) = common::git_output(&bare, &["cat-file", "-e", &target]);
    assert!(!ok, "the target is gone");

    let out = pre_receive(&bare, &tag, "reject");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&target), "the message names it: {stderr}");
}
