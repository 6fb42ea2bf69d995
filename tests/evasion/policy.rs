//! The server's own settings as a pusher would push against them: the time budget, the
//! allow marker, the size limit.

use std::time::Instant;

use super::{assert_accepted, assert_rejected_for, server_with_main, GITHUB_RULE};
use crate::common::{github_token, token_line};

/// Many findings on one long line used to cost O(matches × line length), enough to run
/// past the hook's budget and be accepted by timeout. With the server's default budget,
/// the push must be rejected for the secret, not decided by the clock. (A debug build is
/// several times slower throughout, so it pushes an eighth of the size, still far past
/// the budget for a quadratic scan; the release build pushes the ~4 MB of the issue.)
#[test]
fn one_long_line_of_many_tokens_is_rejected_within_the_default_timeout() {
    let s = server_with_main();
    s.unset_config("tollgate.timeout");
    let size = if cfg!(debug_assertions) {
        1 << 19
    } else {
        4 << 20
    };
    let unit = format!("{} GITHUB_TOKEN={} ", "x".repeat(200), github_token());
    let line = unit.repeat(size / unit.len());
    s.client
        .commit(&[("one-line.txt", &format!("{line}\n"))], "one line");
    let started = Instant::now();
    let push = s.push(&["main"]);
    let took = started.elapsed();
    assert!(
        !push.1.contains("tollgate.timeout"),
        "decided by the clock after {took:?}, not by the scan: {}",
        push.1.chars().take(2000).collect::<String>()
    );
    assert_rejected_for(&s, &push, GITHUB_RULE, "one-line.txt");
}

/// A marker annotating its own secret: the server decides whether markers count.
fn annotated_secret() -> String {
    format!(
        "GITHUB_TOKEN={} # tollgate:allow fixture for the demo\n",
        github_token()
    )
}

#[test]
fn an_annotating_marker_does_not_count_where_the_server_turns_markers_off() {
    let s = server_with_main();
    s.config("tollgate.inlineAllow", "false");
    s.client
        .commit(&[("app.env", &annotated_secret())], "allowed?");
    let push = s.push(&["main"]);
    assert_rejected_for(&s, &push, GITHUB_RULE, "app.env");
    assert!(
        !push.1.contains("tollgate:allow"),
        "markers are not advertised where they do not count: {}",
        push.1
    );
}

#[test]
fn an_annotating_marker_counts_by_default_and_is_audited() {
    let s = server_with_main();
    let head = s
        .client
        .commit(&[("app.env", &annotated_secret())], "allowed");
    let push = s.push(&["main"]);
    assert_accepted(&s, &push, "main", &head);
    let log = s.audit_log();
    let line = log
        .lines()
        .find(|l| l.contains(GITHUB_RULE))
        .unwrap_or_else(|| panic!("the suppressed finding is audited: {log}"));
    assert!(line.contains("app.env"), "{line}");
    assert!(line.contains(&head[..12]), "the commit is recorded: {line}");
    assert!(line.contains("fingerprint"), "{line}");
    assert!(
        !log.contains(&github_token()[4..]),
        "never the secret: {log}"
    );
}

/// A file over `tollgate.maxFileSize` is not scanned; the README: the push is then not
/// fully scanned and `tollgate.onError` decides, with a message and an audit line.
#[test]
fn a_file_over_the_size_limit_is_never_accepted_silently() {
    let s = server_with_main();
    s.config("tollgate.maxFileSize", "1K");
    let big = format!("{}{}", "filler line\n".repeat(200), token_line());
    s.client.commit(&[("big.log", &big)], "big");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "onError=reject: {out}");
    assert!(out.contains("big.log"), "{out}");
    assert!(out.contains("tollgate.maxFileSize"), "{out}");

    s.config("tollgate.onError", "accept");
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "onError=accept: {out}");
    assert!(out.contains("without a complete secret scan"), "{out}");
    assert!(out.contains("big.log"), "{out}");
    assert!(
        s.audit_log()
            .lines()
            .any(|l| l.contains(r#""action":"error-accept""#) && l.contains("refs/heads/main")),
        "{}",
        s.audit_log()
    );
}
