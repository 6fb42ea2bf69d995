//! Inputs the fuzz targets (fuzz/fuzz_targets/) found failing a property, each replayed
//! through the same library calls and the same assertion, so that the bug stays fixed
//! without a fuzzer. Each test names the target, the bug, and the property.

use termcolor::NoColor;
use tollgate::engine::Scratch;
use tollgate::finding::{Confidence, Finding, GitContext, K8sContext, TechniqueInfo};
use tollgate::report::{HumanReport, Report};
use tollgate::scan::{build_engine, scan_blob, ScanConfig, Summary};
use tollgate::source::Provenance;

/// The first terminal control character in text meant for a terminal, as the fuzz
/// targets define it: C0 controls but newline and tab, DEL, and C1 (U+009B is a CSI).
fn terminal_control(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| {
        (c.is_control() && c != '\n' && c != '\t') || ('\u{80}'..='\u{9f}').contains(&c)
    })
}

fn human(findings: &[Finding]) -> String {
    let mut out = NoColor::new(Vec::new());
    HumanReport
        .write(findings, &Summary::default(), &mut out)
        .expect("writing to memory");
    String::from_utf8(out.into_inner()).expect("the human report is UTF-8")
}

fn assert_no_terminal_control(text: &str) {
    if let Some((at, c)) = terminal_control(text) {
        panic!("the human report holds {c:?} at byte {at}:\n{text:?}");
    }
}

/// Target `engine`, issue 13 hole 5: a secret that starts with an OSC sequence keeps it
/// in the redacted `secret:` field (redaction keeps 4 characters: `ESC ] 0 ;`), and
/// `--no-redact` prints the whole title-setting sequence.
#[test]
fn engine_human_report_of_a_secret_with_an_osc_sequence_has_no_escape() {
    let data = b"password = \"\x1b]0;pwned\x07Xq9vR2mLp7Tz\"\n";
    let provenance = Provenance {
        path: "fuzz.env".into(),
        rel_path: "fuzz.env".into(),
        git: None,
    };
    for redact in [true, false] {
        let config = ScanConfig {
            redact,
            ..ScanConfig::default()
        };
        let engine = build_engine(&config).expect("the built-in rules compile");
        let report = scan_blob(&engine, data, &provenance, &config, &mut Scratch::default());
        assert!(!report.findings.is_empty(), "the password is found");
        assert_no_terminal_control(&human(&report.findings));
    }
}

/// Target `reports` (artifact crash-a4dde1f39f10426330358c6bd87577053a5efb30), issue 13
/// hole 5: the human report writes several fields as they are (rule id and name, the
/// decoder names, the fingerprint, the snippet, the commit id and date), so any control
/// character in them reaches the terminal.
#[test]
fn reports_human_output_escapes_every_field() {
    const HOSTILE: &str = "\u{1b}]0;title\u{7}\u{1b}[2J\u{9b}31m\r";
    let field = |name: &str| format!("{name}{HOSTILE}");
    let finding = Finding {
        rule_id: field("rule."),
        rule_name: field("name"),
        description: Some(field("description")),
        confidence: Confidence::High,
        path: field("path"),
        line: 1,
        column: 1,
        end_line: 1,
        end_column: 2,
        secret: field("secret"),
        redacted: false,
        entropy: 4.0,
        fingerprint: field("fingerprint"),
        decoded: vec![field("base64")],
        snippet: field("snippet"),
        git: Some(GitContext {
            commit: field("commit"),
            blob: field("blob"),
            author_name: field("author"),
            author_email: field("email"),
            date: field("date"),
            summary: field("summary"),
            other_locations: 0,
        }),
        k8s: Some(K8sContext {
            kind: Some(field("Kind")),
            name: Some(field("name")),
            namespace: Some(field("ns")),
            container: Some(field("container")),
            env: Some(field("ENV")),
            field: Some(field("spec")),
            detail: Some(field("detail")),
            subjects: vec![field("subject")],
            technique: Some(TechniqueInfo {
                id: field("MS-TA"),
                name: field("technique"),
                mitre: field("T"),
            }),
            api_version: Some(field("v1")),
        }),
    };
    assert_no_terminal_control(&human(&[finding]));
}

/// Target `repo_config` (artifact crash-e31b847e2cdc7cc2fbd99cfd6926e7a2f1cb54d5): not a
/// bug in tollgate but in the property, kept as the record of how error lines count. The
/// YAML parser, as YAML 1.2 says, takes a lone CR for a line break, so the error for this
/// 8-line (by `\n`) file is on line 10: lines a CR-aware editor shows.
#[test]
fn repo_config_error_lines_count_a_lone_cr_as_a_line_break() {
    let text = "version: 1\nrules: [.tollgate/rules]\ndisable-rules: [generic.cli-option]\n\
                enab gener\r\r\r\r\r\ric.key-value:\n    allow: [\"^dev-\"]\n    \
                min-entropy: 3.5\nbaseline: .tollgate-baseline.json\n";
    let err = tollgate::config::RepoConfig::parse(std::path::Path::new(".tollgate.yaml"), text)
        .expect_err("a key without `:` is not valid YAML");
    let yaml_lines = text.replace("\r\n", "\n").split(['\n', '\r']).count();
    assert_eq!(err.line, 10, "{err}");
    assert!(err.line <= yaml_lines, "{err}");
}

/// Target `repo_config` (artifact crash-2e741a7c566bc01dd58850ad1dd1e92ebd108e76): an
/// unterminated flow sequence on the only line, with no newline at the end, is reported
/// on line 2, a line the file does not have: the YAML parser marks the end of the stream
/// one line past the last. Pinned so that a change to how errors are placed is seen; the
/// error names at most the line after the last.
#[test]
fn repo_config_error_at_the_end_of_input_names_at_most_the_next_line() {
    let text = " ['[a -*',";
    let err = tollgate::config::RepoConfig::parse(std::path::Path::new(".tollgate.yaml"), text)
        .expect_err("an unterminated flow sequence is not valid YAML");
    assert!(
        (1..=2).contains(&err.line),
        "a 1-line file's error is on line {}: {err}",
        err.line
    );
}
