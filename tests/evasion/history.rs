//! Shapes of history a pusher can give a secret: behind a symbolic link, moved by a
//! rename, added and removed again, on an orphan branch, slipped into rewritten history.

use std::os::unix::fs::symlink;

use super::{
    assert_accepted, assert_rejected_for, json_findings, server_with_main, GITHUB_RULE, STRIPE_RULE,
};
use crate::common::{github_token, token_line, tollgate, Server, STRIPE_KEY};

/// A link is not content, the file it points to is: the pushed file is rejected at its
/// own path.
#[test]
fn a_symlink_to_a_file_holding_a_secret() {
    let s = server_with_main();
    s.client.write("real/creds.env", &token_line());
    symlink("real/creds.env", s.client.path.join("app.env")).unwrap();
    s.client.commit(&[], "link the settings");
    let push = s.push(&["main"]);
    assert_rejected_for(&s, &push, GITHUB_RULE, "real/creds.env");
}

/// A new link to a file the server already had adds no content: accepted.
#[test]
fn a_new_symlink_to_a_secret_the_server_already_had_adds_nothing() {
    let s = server_with_main();
    s.client.commit(&[("real/creds.env", &token_line())], "old");
    s.push_unchecked(&["main"]);
    symlink("real/creds.env", s.client.path.join("app.env")).unwrap();
    let head = s.client.commit(&[], "link the settings");
    let push = s.push(&["main"]);
    assert_accepted(&s, &push, "main", &head);
}

/// Decision: a link's target text is stored in the repository like file content and
/// comes out of every clone (`readlink`), so a target that is a secret is a leaked
/// secret: rejected, and found by the history audit.
#[test]
fn a_symlink_whose_target_text_is_a_secret() {
    let s = server_with_main();
    symlink(github_token(), s.client.path.join("token-link")).unwrap();
    s.client.commit(&[], "a link");
    let push = s.push(&["main"]);
    assert_rejected_for(&s, &push, GITHUB_RULE, "token-link");

    let out = tollgate()
        .args(["git", "--no-config", "--no-progress", "--format", "json"])
        .arg(&s.client.path)
        .output()
        .unwrap();
    let findings = json_findings(&out.stdout);
    assert!(
        findings
            .iter()
            .any(|(rule, path)| rule == GITHUB_RULE && path == "token-link"),
        "{findings:?}"
    );
}

fn server_with_old_secret() -> Server {
    let s = server_with_main();
    s.client
        .commit(&[("old.env", &format!("A=1\n{}", token_line()))], "old");
    s.push_unchecked(&["main"]);
    s
}

/// Decision: a pure rename brings no new blob; the secret was already on the server and
/// is the history audit's to report. Accepted.
#[test]
fn a_rename_only_of_a_file_the_server_already_had_is_accepted() {
    let s = server_with_old_secret();
    s.client.git(&["mv", "old.env", "new.env"]);
    let head = s.client.commit(&[], "rename");
    let push = s.push(&["main"]);
    assert_accepted(&s, &push, "main", &head);
}

/// A rename that also adds a secret: the new secret is rejected, whatever the rename
/// does to the comparison with the old version.
#[test]
fn a_rename_and_an_edit_adding_a_secret_in_one_commit() {
    let s = server_with_old_secret();
    s.client.git(&["mv", "old.env", "new.env"]);
    s.client.write(
        "new.env",
        &format!("A=1\n{}STRIPE={STRIPE_KEY}\n", token_line()),
    );
    s.client.commit(&[], "rename and edit");
    let push = s.push(&["main"]);
    assert_rejected_for(&s, &push, STRIPE_RULE, "new.env");
}

/// Added in one commit, moved in the next, deleted in the last: the secret is in the
/// pushed history and is rejected at the commit that added it.
#[test]
fn a_secret_added_renamed_and_deleted_within_one_push() {
    let s = server_with_main();
    let added = s.client.commit(&[("a.env", &token_line())], "add");
    s.client.git(&["mv", "a.env", "b.env"]);
    s.client.commit(&[], "move");
    s.client.git(&["rm", "-q", "b.env"]);
    s.client.commit(&[], "remove");
    let push = s.push(&["main"]);
    assert_rejected_for(&s, &push, GITHUB_RULE, "a.env");
    assert!(push.1.contains(&added[..12]), "{}", push.1);
}

/// The same on a side branch merged back: only the merge's branch is pushed.
#[test]
fn a_secret_added_and_deleted_on_a_merged_side_branch() {
    let s = server_with_main();
    s.client.git(&["checkout", "-q", "-b", "side"]);
    let added = s.client.commit(&[("a.env", &token_line())], "add");
    s.client.git(&["rm", "-q", "a.env"]);
    s.client.commit(&[], "remove");
    s.client.git(&["checkout", "-q", "main"]);
    s.client.commit(&[("main.txt", "main\n")], "main moves on");
    s.client
        .git(&["merge", "-q", "--no-ff", "-m", "merge side", "side"]);
    let push = s.push(&["main"]);
    assert_rejected_for(&s, &push, GITHUB_RULE, "a.env");
    assert!(push.1.contains(&added[..12]), "{}", push.1);
}

#[test]
fn an_orphan_branch() {
    let s = server_with_main();
    s.client.git(&["checkout", "-q", "--orphan", "leak"]);
    s.client.git(&["rm", "-rfq", "."]);
    s.client
        .commit(&[("app.env", &token_line())], "unrelated history");
    let push = s.push(&["leak"]);
    assert_rejected_for(&s, &push, GITHUB_RULE, "app.env");
    assert!(s.server_ref("leak").is_none());
}

/// History rewritten below the tip: the secret goes into an old commit, the later
/// commits are replayed on top, and the result is force-pushed.
#[test]
fn a_force_push_rewriting_old_history_to_add_a_secret() {
    let s = server_with_main();
    for i in 1..=4 {
        s.client.commit(
            &[(&format!("f{i}.txt"), &format!("{i}\n"))],
            &format!("c{i}"),
        );
    }
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "{out}");
    let old_tip = s.client.git(&["rev-parse", "HEAD"]);
    s.client.git(&["reset", "-q", "--hard", "HEAD~4"]);
    let bad = s
        .client
        .commit(&[("f1.txt", &format!("1\n{}", token_line()))], "c1 again");
    s.client.git(&[
        "cherry-pick",
        "--allow-empty",
        &format!("{old_tip}~3..{old_tip}"),
    ]);
    let push = s.push(&["--force", "main"]);
    assert_rejected_for(&s, &push, GITHUB_RULE, "f1.txt");
    assert!(push.1.contains(&bad[..12]), "{}", push.1);
    assert_eq!(s.server_ref("main"), Some(old_tip));
}

/// Decision: a commit message is pushed to the server and shown by every `git log`, so
/// a secret in it is as leaked as one in a file.
#[test]
fn a_secret_in_a_commit_message() {
    let s = server_with_main();
    s.client.commit(
        &[("notes.md", "clean\n")],
        &format!("deploy with\n\n{}", token_line()),
    );
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "the push was accepted: {out}");
    assert!(out.contains(GITHUB_RULE), "{out}");
}

/// The hook's policy is the server's `git config`: a pushed `.tollgate.yaml` that allows
/// every path and secret, and a pushed baseline holding the finding's fingerprint, change
/// nothing.
#[test]
fn a_pushed_config_and_baseline_do_not_open_the_gate() {
    let s = server_with_main();
    s.client.write("app.env", &token_line());
    let out = tollgate()
        .args(["baseline", "create", "dir", "--no-config", "."])
        .current_dir(&s.client.path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let baseline = std::fs::read_to_string(s.client.path.join(".tollgate-baseline.json")).unwrap();
    assert!(baseline.contains(GITHUB_RULE), "{baseline}");
    s.client.write(
        ".tollgate.yaml",
        "version: 1\nallow-paths: [\"**\"]\nallow-secrets: [\".*\"]\nmin-confidence: high\nbaseline: .tollgate-baseline.json\n",
    );
    s.client.commit(&[], "quiet please");
    let push = s.push(&["main"]);
    assert_rejected_for(&s, &push, GITHUB_RULE, "app.env");
}

/// A path that is not UTF-8 is still a path with content.
#[test]
fn a_file_whose_name_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let s = server_with_main();
    let name = std::ffi::OsStr::from_bytes(b"leak\xff.env");
    std::fs::write(s.client.path.join(name), token_line()).unwrap();
    s.client.commit(&[], "odd name");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "the push was accepted: {out}");
    assert!(out.contains(GITHUB_RULE), "{out}");
    assert!(
        s.audit_log().contains(r#""action":"block""#),
        "{}",
        s.audit_log()
    );
}

/// A secret inserted into a CRLF file the server already had is on an added line.
#[test]
fn a_secret_inserted_into_an_existing_crlf_file() {
    let s = server_with_main();
    s.client
        .commit(&[("win.ini", "[app]\r\nA=1\r\nB=2\r\n")], "windows file");
    s.push_unchecked(&["main"]);
    let line = token_line().replace('\n', "\r\n");
    s.client.commit(
        &[("win.ini", &format!("[app]\r\nA=1\r\n{line}B=2\r\n"))],
        "edit",
    );
    let push = s.push(&["main"]);
    assert_rejected_for(&s, &push, GITHUB_RULE, "win.ini");
    assert!(push.1.contains("win.ini:3"), "{}", push.1);
}
