//! `tollgate pre-receive` behind real `git push`es into bare repositories on this machine,
//! with the hook installed by `tollgate hook install`: what is accepted, what is
//! rejected, what the pusher reads, and which refs end up on the server.

mod common;

use std::path::Path;

use common::{git_in, github_token, token_line, tollgate, Server, STRIPE_KEY};

#[test]
fn a_clean_push_is_accepted() {
    let s = Server::new(&[]);
    let head = s.client.commit(&[("README.md", "# app\n")], "start");
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "{out}");
    assert_eq!(s.server_ref("main"), Some(head));
}

#[test]
fn a_secret_is_rejected_with_commit_path_and_line() {
    let s = Server::new(&[]);
    s.client.commit(&[("README.md", "# app\n")], "start");
    assert!(s.push(&["main"]).0);
    let before = s.server_ref("main");
    let bad = s.client.commit(
        &[("deploy/app.env", &format!("LOG=debug\n{}", token_line()))],
        "settings",
    );
    let (ok, out) = s.push(&["main"]);
    assert!(!ok);
    assert!(out.contains("push rejected: 1 secret"), "{out}");
    assert!(
        out.contains(&format!("commit {}  deploy/app.env:2", &bad[..12])),
        "{out}"
    );
    assert!(out.contains("github.pat-classic"), "{out}");
    assert!(out.contains("git rebase -i"), "{out}");
    assert!(
        !out.contains(&github_token()[8..]),
        "the secret is masked: {out}"
    );
    assert_eq!(s.server_ref("main"), before, "the ref did not move");
    let log = s.audit_log();
    assert!(log.contains(r#""action":"block""#), "{log}");
    assert!(!log.contains(&github_token()[8..]));
}

#[test]
fn a_secret_added_then_removed_in_the_same_push_is_still_rejected() {
    let s = Server::new(&[]);
    s.client.commit(&[("README.md", "# app\n")], "start");
    assert!(s.push(&["main"]).0);
    let added = s.client.commit(&[("app.env", &token_line())], "oops");
    std::fs::remove_file(s.client.path.join("app.env")).unwrap();
    s.client.commit(&[], "remove it");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains(&added[..12]), "{out}");
}

#[test]
fn a_secret_already_in_a_modified_file_does_not_block() {
    let s = Server::new(&[]);
    s.client.commit(
        &[("app.env", &format!("A=1\n{}", token_line()))],
        "old secret",
    );
    s.push_unchecked(&["main"]);
    let head = s.client.commit(
        &[("app.env", &format!("A=2\n{}B=3\n", token_line()))],
        "edit other lines",
    );
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "{out}");
    assert_eq!(s.server_ref("main"), Some(head));
    // A new secret in the same file still blocks.
    s.client.commit(
        &[(
            "app.env",
            &format!("A=2\n{}B=3\nSTRIPE={STRIPE_KEY}\n", token_line()),
        )],
        "another secret",
    );
    let (ok, out) = s.push(&["main"]);
    assert!(!ok);
    assert!(out.contains("stripe."), "{out}");
    assert!(!out.contains("github."), "{out}");
}

#[test]
fn a_file_edited_by_several_pushed_commits_answers_only_for_its_new_lines() {
    let s = Server::new(&[]);
    s.client.commit(
        &[("app.env", &format!("A=1\n{}", token_line()))],
        "old secret",
    );
    s.push_unchecked(&["main"]);
    // Two commits in one push edit the file around the secret the server already had.
    s.client.commit(
        &[("app.env", &format!("A=2\n{}", token_line()))],
        "first edit",
    );
    let head = s.client.commit(
        &[("app.env", &format!("A=2\n{}B=3\n", token_line()))],
        "second edit",
    );
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "{out}");
    assert_eq!(s.server_ref("main"), Some(head));
    // A secret added by the first commit of a push and kept by the second is rejected
    // once, at the commit that added it.
    let added = s.client.commit(
        &[(
            "app.env",
            &format!("A=2\n{}B=3\nSTRIPE={STRIPE_KEY}\n", token_line()),
        )],
        "new secret",
    );
    s.client.commit(
        &[(
            "app.env",
            &format!("A=3\n{}B=3\nSTRIPE={STRIPE_KEY}\n", token_line()),
        )],
        "edit again",
    );
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("push rejected: 1 secret"), "{out}");
    assert!(
        out.contains(&format!("commit {}  app.env:4", &added[..12])),
        "{out}"
    );
}

#[test]
fn a_new_branch_from_existing_history_scans_only_its_new_commits() {
    let s = Server::new(&[]);
    s.client.commit(&[("app.env", &token_line())], "old secret");
    s.push_unchecked(&["main"]);
    s.client.git(&["checkout", "-q", "-b", "feature"]);
    let (ok, out) = s.push(&["feature"]);
    assert!(ok, "a branch at an existing commit adds nothing: {out}");
    let head = s.client.commit(&[("notes.md", "clean\n")], "notes");
    let (ok, out) = s.push(&["feature"]);
    assert!(ok, "{out}");
    assert_eq!(s.server_ref("feature"), Some(head));
}

#[test]
fn tags_deletions_and_several_refs_at_once() {
    let s = Server::new(&[]);
    s.client.commit(&[("README.md", "# app\n")], "start");
    s.client.git(&["tag", "-a", "-m", "v1", "v1.0"]);
    let (ok, out) = s.push(&["main", "v1.0"]);
    assert!(ok, "{out}");
    assert!(s.server_ref("v1.0").is_some());

    // A tag on a new commit with a secret is rejected.
    s.client.git(&["checkout", "-q", "-b", "release"]);
    s.client
        .commit(&[("release.env", &token_line())], "release");
    s.client.git(&["tag", "v2.0"]);
    let (ok, out) = s.push(&["v2.0"]);
    assert!(!ok, "{out}");
    assert!(s.server_ref("v2.0").is_none());

    // Several refs in one push: one bad ref rejects the push.
    s.client.git(&["checkout", "-q", "main"]);
    s.client.git(&["checkout", "-q", "-b", "clean"]);
    s.client.commit(&[("ok.txt", "fine\n")], "fine");
    let (ok, out) = s.push(&["clean", "release"]);
    assert!(!ok, "{out}");
    assert!(s.server_ref("clean").is_none() && s.server_ref("release").is_none());
    let (ok, out) = s.push(&["clean"]);
    assert!(ok, "{out}");

    // Deleting refs scans nothing.
    let (ok, out) = s.push(&["--delete", "clean", "v1.0"]);
    assert!(ok, "{out}");
    assert!(s.server_ref("clean").is_none() && s.server_ref("v1.0").is_none());
}

#[test]
fn force_pushes_are_scanned() {
    let s = Server::new(&[]);
    s.client.commit(&[("README.md", "# app\n")], "start");
    s.client.commit(&[("a.txt", "a\n")], "a");
    assert!(s.push(&["main"]).0);
    s.client.git(&["reset", "-q", "--hard", "HEAD~1"]);
    s.client
        .commit(&[("app.env", &token_line())], "rewrite with a secret");
    let (ok, out) = s.push(&["--force", "main"]);
    assert!(!ok, "{out}");
    s.client.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let head = s.client.commit(&[("b.txt", "b\n")], "rewrite clean");
    let (ok, out) = s.push(&["--force", "main"]);
    assert!(ok, "{out}");
    assert_eq!(s.server_ref("main"), Some(head));
}

#[test]
fn the_first_push_into_an_empty_repository_is_scanned() {
    let s = Server::new(&[]);
    s.client.commit(&[("app.env", &token_line())], "first");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(s.server_ref("main").is_none());
}

#[test]
fn sha256_repositories_are_gated_too() {
    let s = Server::new(&["--object-format=sha256"]);
    s.client.commit(&[("README.md", "# app\n")], "start");
    assert!(s.push(&["main"]).0);
    let bad = s.client.commit(&[("app.env", &token_line())], "secret");
    assert_eq!(bad.len(), 64);
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains(&bad[..12]), "{out}");
}

#[test]
fn a_push_option_bypasses_only_where_allowed_and_is_logged() {
    let s = Server::new(&[]);
    s.config("receive.advertisePushOptions", "true");
    s.client
        .commit(&[("app.env", &token_line())], "needed for the demo");
    let (ok, out) = s.push(&["-o", "tollgate.skip", "main"]);
    assert!(!ok, "bypass is off by default: {out}");
    assert!(out.contains("ignored"), "{out}");

    s.config("tollgate.allowBypass", "true");
    let (ok, out) = s.push(&["-o", "tollgate.skip", "main"]);
    assert!(ok, "{out}");
    let log = s.audit_log();
    let bypass = log
        .lines()
        .find(|l| l.contains(r#""action":"bypass""#))
        .expect("a bypass line");
    assert!(bypass.contains("refs/heads/main"), "{bypass}");
}

#[test]
fn a_timeout_ends_in_the_configured_outcome() {
    let s = Server::new(&[]);
    s.client.commit(&[("app.env", &token_line())], "secret");
    s.config("tollgate.timeout", "1ms");
    s.config("tollgate.onTimeout", "reject");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("tollgate.timeout"), "{out}");
    s.config("tollgate.onTimeout", "accept");
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "fail open: {out}");
    assert!(out.contains("without a complete secret scan"), "{out}");
    let log = s.audit_log();
    let line = log
        .lines()
        .find(|l| l.contains(r#""action":"timeout-accept""#))
        .expect("a timeout line");
    assert!(
        line.contains("refs/heads/main"),
        "the refs are logged: {line}"
    );
}

#[test]
fn bad_input_ends_in_the_configured_outcome() {
    let s = Server::new(&[]);
    let run = |input: &str| {
        tollgate()
            .arg("pre-receive")
            .env("GIT_DIR", &s.bare)
            .write_stdin(input.to_string())
            .output()
            .unwrap()
    };
    s.config("tollgate.onError", "reject");
    let out = run("this is not a ref update\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad hook input"));
    s.config("tollgate.onError", "accept");
    assert_eq!(run("garbage\n").status.code(), Some(0));
    // A setting that does not parse is an error too, not a silent default.
    s.config("tollgate.minConfidence", "very");
    s.config("tollgate.onError", "reject");
    let out = run("");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tollgate.minConfidence"));
    // An unreadable onError fails closed.
    s.config("tollgate.onError", "sometimes");
    assert_eq!(run("").status.code(), Some(1));
}

#[test]
fn gitlab_sees_prefixed_messages() {
    let s = Server::new(&[]);
    s.client.commit(&[("app.env", &token_line())], "secret");
    // Over a local transport the hook inherits the pusher's environment, as it inherits
    // GitLab's on a GitLab server.
    let out = std::process::Command::new("git")
        .args(["push", "origin", "main"])
        .current_dir(&s.client.path)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GL_ID", "user-1")
        .env("GL_USERNAME", "ada")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let remote: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("remote: "))
        .collect();
    assert!(!remote.is_empty(), "{stderr}");
    assert!(
        remote.iter().all(|l| l.starts_with("GL-HOOK-ERR: ")),
        "{stderr}"
    );
    assert!(s.audit_log().contains(r#""user":"ada""#));
}

#[test]
fn install_never_clobbers_and_uninstall_removes_only_ours() {
    let s = Server::new(&[]);
    let hook = s.bare.join("hooks/pre-receive");
    assert!(std::fs::read_to_string(&hook)
        .unwrap()
        .contains("pre-receive"));
    let run = |args: &[&str], target: &Path| tollgate().args(args).arg(target).output().unwrap();
    // Installing again updates our own hook.
    assert!(run(&["hook", "install", "--bare"], &s.bare)
        .status
        .success());
    assert!(run(&["hook", "uninstall", "--bare"], &s.bare)
        .status
        .success());
    assert!(!hook.exists());
    std::fs::write(&hook, "#!/bin/sh\necho theirs\n").unwrap();
    let out = run(&["hook", "install", "--bare"], &s.bare);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not tollgate's"));
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\necho theirs\n"
    );
    let out = run(&["hook", "uninstall", "--bare"], &s.bare);
    assert_eq!(out.status.code(), Some(2));
    assert!(hook.exists());
    // core.hooksPath is where Git looks, so that is where the hook goes.
    let shared_hooks = s.client.sibling("shared-hooks");
    s.config("core.hooksPath", shared_hooks.to_str().unwrap());
    assert!(run(&["hook", "install", "--bare"], &s.bare)
        .status
        .success());
    assert!(shared_hooks.join("pre-receive").exists());
    // GitLab and Gitea layouts use a pre-receive.d directory.
    let gitlab = s.client.sibling("custom_hooks");
    assert!(run(&["hook", "install", "--gitlab-dir"], &gitlab)
        .status
        .success());
    assert!(gitlab.join("pre-receive.d/tollgate").exists());
    assert!(run(&["hook", "install", "--gitea"], &s.bare)
        .status
        .success());
    assert!(s.bare.join("hooks/pre-receive.d/tollgate").exists());
}

#[test]
fn a_commit_message_marker_bypasses_only_where_allowed() {
    let s = Server::new(&[]);
    s.client.commit(
        &[("app.env", &token_line())],
        "fixture for the demo [tollgate skip]",
    );
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "bypass is off by default: {out}");
    s.config("tollgate.allowBypass", "true");
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "{out}");
    assert!(out.contains("scan skipped for refs/heads/main"), "{out}");
    assert!(s.audit_log().contains(r#""action":"bypass""#));
}

#[test]
fn utf16_files_and_odd_ref_names_are_scanned_too() {
    let s = Server::new(&[]);
    s.client.commit(&[("README.md", "# app\n")], "start");
    assert!(s.push(&["main"]).0);
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in token_line().encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    std::fs::write(s.client.path.join("win.ps1"), &utf16).unwrap();
    s.client.commit(&[], "windows script");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("win.ps1:1"), "{out}");
    // A ref name that is not UTF-8 does not turn the scan off.
    let odd = format!("HEAD:refs/heads/x{}", char::from(0xE9u8));
    let (ok, out) = s.push(&[odd.as_str()]);
    assert!(!ok, "{out}");
    assert!(out.contains("push rejected"), "{out}");
}

#[test]
fn content_the_push_could_not_scan_does_not_pass_silently() {
    let s = Server::new(&[]);
    s.client.commit(&[("README.md", "# app\n")], "start");
    assert!(s.push(&["main"]).0);
    s.config("tollgate.maxFileSize", "1K");
    let big = format!("{}{}", "filler line\n".repeat(200), token_line());
    s.client.commit(&[("big.log", &big)], "big");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "onError=reject: {out}");
    assert!(out.contains("over tollgate.maxFileSize"), "{out}");
    // Trimming the big file in a later commit of the same push does not hide the secret:
    // the earlier content was never on the server, and is judged where it was added.
    s.config("tollgate.maxFileSize", "10M");
    s.client.commit(&[("big.log", &token_line())], "trim");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("push rejected: 1 secret"), "{out}");
    assert!(out.contains("big.log:201"), "{out}");
}

#[test]
fn a_manifest_secret_is_rejected_with_its_kubernetes_place_and_posture_only_noted() {
    let s = Server::new(&[]);
    s.client.commit(&[("README.md", "# app\n")], "start");
    assert!(s.push(&["main"]).0);
    // A ClusterRole that reads secrets is posture, not a secret: noted, not blocking.
    let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\nrules:\n  - apiGroups: [\"\"]\n    resources: [secrets]\n    verbs: [list]\n";
    s.client.commit(&[("deploy/role.yaml", role)], "role");
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("note: deploy/role.yaml:7: Role can read Secrets"),
        "{out}"
    );
    assert!(out.contains("MS-TA9025"), "{out}");

    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          env:\n            - name: DB_PASSWORD\n              value: Rk4!vT9#qW2mZ7pX\n";
    s.client.commit(&[("deploy/api.yaml", deployment)], "api");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("k8s.env-literal"), "{out}");
    assert!(
        out.contains("in Deployment shop/api, container web, env DB_PASSWORD"),
        "{out}"
    );
    assert!(
        !out.contains("Rk4!vT9#qW2mZ7pX"),
        "the secret is masked: {out}"
    );
}

#[test]
fn an_inline_marker_is_honoured_and_every_finding_it_allows_is_audited() {
    let s = Server::new(&[]);
    let commit = s.client.commit(
        &[(
            "test/fixture.env",
            &format!(
                "GITHUB_TOKEN={} # tollgate:allow test fixture\n",
                github_token()
            ),
        )],
        "fixture",
    );
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "{out}");
    assert!(out.contains("allowed by `tollgate:allow` markers"), "{out}");
    let log = s.audit_log();
    let line = log
        .lines()
        .find(|l| l.contains(r#""action":"inline-allow""#))
        .expect("an inline-allow line");
    let record: serde_json::Value = serde_json::from_str(line).unwrap();
    let finding = &record["findings"][0];
    assert_eq!(finding["rule_id"], "github.pat-classic", "{line}");
    assert_eq!(finding["path"], "test/fixture.env");
    assert_eq!(finding["commit"], commit.as_str());
    assert_eq!(finding["fingerprint"].as_str().map(str::len), Some(32));
    assert!(
        !log.contains(&github_token()[8..]),
        "never the secret: {log}"
    );
}

#[test]
fn with_inline_allow_off_markers_count_for_nothing_and_are_not_offered() {
    let s = Server::new(&[]);
    s.config("tollgate.inlineAllow", "false");
    s.client.commit(
        &[(
            "app.env",
            &format!("GITHUB_TOKEN={} # tollgate:allow\n", github_token()),
        )],
        "marked",
    );
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("push rejected: 1 secret"), "{out}");
    assert!(
        !out.contains("tollgate:allow"),
        "markers are not offered: {out}"
    );
    s.config("tollgate.inlineAllow", "sometimes");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "a bad value fails closed: {out}");
    assert!(out.contains("tollgate.inlineAllow"), "{out}");
}

#[test]
fn a_marker_far_along_a_minified_line_does_not_let_a_token_in() {
    let s = Server::new(&[]);
    let line = format!(
        "{{\"token\":\"{}\",\"pad\":\"{}\",\"note\":\"tollgate:allow\"}}\n",
        github_token(),
        "x".repeat(5000)
    );
    s.client.commit(&[("dist/app.min.json", &line)], "bundle");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("push rejected: 1 secret"), "{out}");
    assert!(out.contains("tollgate:allow"), "markers count here: {out}");
}

#[test]
fn pushes_the_scan_cannot_finish_or_read_are_rejected_by_default() {
    let s = Server::new(&[]);
    for key in ["tollgate.onError", "tollgate.onTimeout"] {
        git_in(&s.bare, &["config", "--unset", key]);
    }
    s.client.commit(&[("README.md", "# app\n")], "start");
    assert!(s.push(&["main"]).0);

    s.config("tollgate.maxFileSize", "1K");
    let big = format!("{}{}", "filler line\n".repeat(200), token_line());
    s.client.commit(&[("big.log", &big)], "big");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("tollgate.onError accept"), "{out}");

    s.config("tollgate.maxFileSize", "10M");
    s.config("tollgate.timeout", "1ms");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("tollgate.onTimeout accept"), "{out}");
    assert!(s.audit_log().contains(r#""action":"timeout-reject""#));
}

#[test]
fn many_tokens_on_one_long_line_are_rejected_on_their_findings() {
    // Issue 13: the per-match scan of the line ran such a push past the timeout, which
    // then accepted it. Scan time is linear now (see benches/worst_case.rs); a debug
    // build on a busy machine still gets the roomy budget these tests use.
    let s = Server::new(&[]);
    let piece = format!("{} GITHUB_TOKEN={} ", "x".repeat(40), github_token());
    let line = piece.repeat(1_000_000 / piece.len());
    s.client.commit(&[("dist/bundle.js", &line)], "bundle");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("secrets in the pushed commits"),
        "scanned, not timed out: {out}"
    );
}

/// A pkt-line of the receive-pack protocol.
fn pkt_line(text: &str) -> Vec<u8> {
    let mut out = format!("{:04x}", text.len() + 4).into_bytes();
    out.extend_from_slice(text.as_bytes());
    out
}

#[test]
fn objects_a_push_carries_but_no_ref_reaches_are_scanned_too() {
    // A pack may hold objects no pushed ref reaches, and git keeps them all: a later
    // push naming them would find them on the server. The first push must answer.
    let s = Server::new(&[]);
    s.client.commit(&[("README.md", "# app\n")], "start");
    assert!(s.push(&["main"]).0);
    let main = s.client.git(&["rev-parse", "HEAD"]);
    let harmless = s.client.commit(&[("notes.txt", "harmless\n")], "harmless");
    let loose = s.client.sibling("loose.env");
    std::fs::write(&loose, token_line()).unwrap();
    let blob = s
        .client
        .git(&["hash-object", "-w", loose.to_str().unwrap()]);
    let listed = s
        .client
        .git(&["rev-list", "--objects", &harmless, "--not", &main]);
    let mut ids: String = listed
        .lines()
        .map(|l| format!("{}\n", l.split(' ').next().unwrap()))
        .collect();
    ids.push_str(&format!("{blob}\n"));
    let pack = std::process::Command::new("git")
        .args(["pack-objects", "--stdout", "-q"])
        .current_dir(&s.client.path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(ids.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(pack.status.success());
    let mut request = pkt_line(&format!(
        "{} {harmless} refs/heads/p1\0report-status\n",
        "0".repeat(40)
    ));
    request.extend_from_slice(b"0000");
    request.extend_from_slice(&pack.stdout);
    let out = std::process::Command::new("git")
        .arg("receive-pack")
        .arg(&s.bare)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(&request)?;
            child.wait_with_output()
        })
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("github.pat-classic"), "{said}");
    assert!(said.contains(&format!("unreferenced/{blob}")), "{said}");
    assert!(s.server_ref("p1").is_none(), "{said}");
    let (present, _, _) = common::git_output(&s.bare, &["cat-file", "-e", &blob]);
    assert!(!present, "the rejected push left the object behind: {said}");
}
