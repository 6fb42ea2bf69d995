//! Refs a pusher can aim at a secret: tags of a blob or a tree, many refs in one push,
//! and many pushes at once against one server.

use super::{assert_rejected_for, server_with_main, GITHUB_RULE};
use crate::common::{git_output, token_line, Server};

/// A tag of a blob or a tree carries content without a commit. The README: it is
/// reported, and the push counts as not fully scanned, so `tollgate.onError` decides.
/// Scanning the content and rejecting it for the secret is at least as good. Under
/// either outcome, it is never accepted silently.
fn a_tag_of_content_is_never_accepted_silently(s: &Server, tag: &str) {
    let tag_ref = format!("refs/tags/{tag}");
    let (ok, out) = s.push(&[&tag_ref]);
    assert!(!ok, "onError=reject: {out}");
    assert!(
        out.contains(GITHUB_RULE) || (out.contains(&tag_ref) && out.contains("not scan")),
        "the secret or the unscanned ref is named: {out}"
    );
    assert!(s.server_ref(&tag_ref).is_none());

    s.config("tollgate.onError", "accept");
    let (ok, out) = s.push(&[&tag_ref]);
    if ok {
        assert!(out.contains("without a complete secret scan"), "{out}");
        assert!(
            s.audit_log()
                .lines()
                .any(|l| l.contains(r#""action":"error-accept""#) && l.contains(&tag_ref)),
            "{}",
            s.audit_log()
        );
    } else {
        assert!(out.contains(GITHUB_RULE), "{out}");
    }
}

#[test]
fn an_annotated_tag_of_a_blob_holding_a_secret() {
    let s = server_with_main();
    s.client.write("loose.env", &token_line());
    let blob = s.client.git(&["hash-object", "-w", "loose.env"]);
    std::fs::remove_file(s.client.path.join("loose.env")).unwrap();
    s.client
        .git(&["tag", "-a", "-m", "a blob", "blobtag", &blob]);
    a_tag_of_content_is_never_accepted_silently(&s, "blobtag");
}

#[test]
fn a_lightweight_tag_of_a_tree_holding_a_secret() {
    let s = server_with_main();
    s.client.write("loose.env", &token_line());
    s.client.git(&["add", "loose.env"]);
    let tree = s.client.git(&["write-tree"]);
    s.client.git(&["rm", "-q", "--cached", "loose.env"]);
    std::fs::remove_file(s.client.path.join("loose.env")).unwrap();
    s.client.git(&["tag", "treetag", &tree]);
    a_tag_of_content_is_never_accepted_silently(&s, "treetag");
}

/// The unscanned tag must not be forgotten because a clean branch came in the same push.
#[test]
fn a_tag_of_a_tree_pushed_together_with_a_clean_branch() {
    let s = server_with_main();
    s.client.write("loose.env", &token_line());
    s.client.git(&["add", "loose.env"]);
    let tree = s.client.git(&["write-tree"]);
    s.client.git(&["rm", "-q", "--cached", "loose.env"]);
    std::fs::remove_file(s.client.path.join("loose.env")).unwrap();
    s.client.git(&["tag", "treetag", &tree]);
    s.client.commit(&[("notes.md", "clean\n")], "clean work");
    let (ok, out) = s.push(&["main", "refs/tags/treetag"]);
    assert!(!ok, "onError=reject: {out}");
    assert!(
        out.contains(GITHUB_RULE) || out.contains("refs/tags/treetag"),
        "{out}"
    );
    assert!(s.server_ref("refs/tags/treetag").is_none());
    assert!(
        s.audit_log().contains("refs/tags/treetag"),
        "{}",
        s.audit_log()
    );
}

#[test]
fn thirty_branches_in_one_push_one_carrying_a_secret() {
    let s = server_with_main();
    let mut bad = String::new();
    for i in 0..30 {
        let branch = format!("b{i:02}");
        s.client.git(&["checkout", "-q", "-b", &branch, "main"]);
        let secret = i == 17;
        let content = if secret {
            token_line()
        } else {
            format!("n={i}\n")
        };
        let commit = s
            .client
            .commit(&[(&format!("{branch}.env"), &content)], &branch);
        if secret {
            bad = commit;
        }
    }
    let push = s.push(&["--all"]);
    assert_rejected_for(&s, &push, GITHUB_RULE, "b17.env");
    assert!(push.1.contains(&bad[..12]), "{}", push.1);
    for i in 0..30 {
        assert!(s.server_ref(&format!("b{i:02}")).is_none(), "b{i:02}");
    }
}

/// Twenty pushes at once into one server, each to its own branch, ten with a secret:
/// every one is decided on its own content.
#[test]
fn twenty_concurrent_pushes_are_each_decided_correctly() {
    let s = server_with_main();
    let mut branches = Vec::new();
    for i in 0..20 {
        let branch = format!("c{i:02}");
        let secret = i % 2 == 0;
        s.client.git(&["checkout", "-q", "-b", &branch, "main"]);
        let content = if secret {
            format!("N={i}\n{}", token_line())
        } else {
            format!("N={i}\n")
        };
        let commit = s
            .client
            .commit(&[(&format!("{branch}.env"), &content)], &branch);
        branches.push((branch, secret, commit));
    }
    s.client.git(&["checkout", "-q", "main"]);
    let results: Vec<(bool, String)> = std::thread::scope(|scope| {
        let pushes: Vec<_> = branches
            .iter()
            .map(|(branch, _, _)| {
                let client = &s.client.path;
                scope.spawn(move || {
                    let (ok, out, err) = git_output(client, &["push", "origin", branch]);
                    (ok, format!("{out}\n{err}"))
                })
            })
            .collect();
        pushes.into_iter().map(|p| p.join().unwrap()).collect()
    });
    for ((branch, secret, commit), (ok, out)) in branches.iter().zip(&results) {
        if *secret {
            assert!(!ok, "{branch} carries a secret: {out}");
            assert!(out.contains("push rejected: 1 secret"), "{branch}: {out}");
            assert!(out.contains(GITHUB_RULE), "{branch}: {out}");
            assert!(out.contains(&format!("{branch}.env:2")), "{branch}: {out}");
            assert!(s.server_ref(branch).is_none(), "{branch}");
        } else {
            assert!(ok, "{branch} is clean: {out}");
            assert_eq!(s.server_ref(branch).as_ref(), Some(commit), "{branch}");
        }
    }
    let blocks = s
        .audit_log()
        .lines()
        .filter(|l| l.contains(r#""action":"block""#))
        .count();
    assert_eq!(blocks, 10, "{}", s.audit_log());
}
