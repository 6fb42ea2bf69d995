//! Whole-binary cases for issue 13's holes 2, 3 and 6: what an inline `tollgate:allow`
//! marker covers, a finding's rule not depending on `--min-confidence`, deep
//! indentation, and scan time that grows with the input, not with findings × line.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::tollgate;
use serde_json::Value;
use tollgate::engine::checksum::base62;

/// A fake GitHub PAT with a valid checksum; `seed` makes each one different.
fn github_token(seed: u64) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let body: String = (0..30)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            A[(x % 62) as usize] as char
        })
        .collect();
    let crc = base62(u64::from(crc32fast::hash(body.as_bytes())), 6);
    format!("ghp_{body}{crc}")
}

/// `tollgate dir FILE --format json` over `text` written to `name`.
fn scan(name: &str, text: &str, args: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    scan_path(&path, args)
}

fn scan_path(path: &Path, args: &[&str]) -> Value {
    let out = tollgate()
        .arg("dir")
        .arg(path)
        .args(["--format", "json", "--no-config"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn lines_of(doc: &Value) -> Vec<u64> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect()
}

#[test]
fn a_trailing_marker_allows_the_value_it_follows() {
    let text = format!(
        "A={} # tollgate:allow test fixture\nB={}\n",
        github_token(1),
        github_token(2)
    );
    let doc = scan("app.env", &text, &[]);
    assert_eq!(lines_of(&doc), vec![2]);
    assert_eq!(doc["summary"]["suppressed_inline"], 1);
}

#[test]
fn one_marker_in_a_minified_line_does_not_hide_the_tokens_around_it() {
    // The marker follows the second token; the first is 5,000 bytes before it.
    let text = format!(
        "{{\"a\":\"{}\",\"pad\":\"{}\",\"b\":\"{}\",\"note\":\"tollgate:allow\",\"c\":\"{}\"}}\n",
        github_token(1),
        "x".repeat(5000),
        github_token(2),
        github_token(3)
    );
    let doc = scan("bundle.json", &text, &[]);
    let secrets: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    assert_eq!(secrets.len(), 2, "{secrets:?}");
    assert_eq!(doc["summary"]["suppressed_inline"], 1);
}

#[test]
fn a_marker_covers_only_the_nearest_value_before_it() {
    let text = format!(
        "A={} B={} # tollgate:allow\n",
        github_token(1),
        github_token(2)
    );
    let doc = scan("app.env", &text, &["--no-redact"]);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["secret"], github_token(1));
}

#[test]
fn a_marker_before_the_value_or_on_the_line_above_covers_nothing() {
    let text = format!(
        "# tollgate:allow\nA={}\nB=tollgate:allow {}\n",
        github_token(1),
        github_token(2)
    );
    assert_eq!(lines_of(&scan("app.env", &text, &[])), vec![2, 3]);
}

#[test]
fn a_findings_rule_and_fingerprint_do_not_depend_on_min_confidence() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(
        &rules,
        r#"rules:
- id: acme.weak-specific
  name: an ACME key, low confidence
  keywords: [acme_]
  regex: '(?P<secret>acme_[0-9A-Za-z]{16})'
  confidence: low
  examples: ['k = acme_Zq3T9xLm2VbN8cR4']
- id: acme.generic-medium
  name: any ACME setting, medium confidence
  keywords: [acmekey]
  regex: 'acmekey\s*=\s*(?P<secret>\S{12,})'
  confidence: medium
  generic: true
  examples: ['acmekey = Zq3T9xLm2VbN8cR4kW7y']
"#,
    )
    .unwrap();
    let file = dir.path().join("app.env");
    std::fs::write(&file, "acmekey = acme_Zq3T9xLm2VbN8cR4\n").unwrap();
    let rules = rules.to_str().unwrap();
    let at = |min: &str| -> Vec<(String, String)> {
        scan_path(&file, &["--rules", rules, "--min-confidence", min])["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule_id"].as_str().unwrap().to_string(),
                    f["fingerprint"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let low = at("low");
    assert_eq!(low.len(), 1, "{low:?}");
    assert_eq!(low[0].0, "acme.weak-specific");
    // The text is the specific rule's, which medium filters out; the generic rule does
    // not step in with another rule id and fingerprint.
    assert_eq!(at("medium"), vec![]);
}

#[test]
fn a_password_line_indented_past_the_rule_window_is_found() {
    for indent in ["    ", &" ".repeat(65), &" ".repeat(300), &"\t".repeat(100)] {
        let text = format!("root:\n{indent}password: Tr0ub4dor3x9QzLp\n");
        let doc = scan("settings.conf", &text, &[]);
        let rules: Vec<&str> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule_id"].as_str().unwrap())
            .collect();
        assert!(
            rules.contains(&"generic.key-value"),
            "{} indent: {rules:?}",
            indent.len()
        );
    }
}

/// Seconds to scan `kb` KB of `piece`s on one line, the best of two runs.
fn one_line_seconds(dir: &Path, kb: usize, piece: impl Fn(usize) -> String) -> f64 {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < kb * 1_000 {
        text.push_str(&piece(i));
        i += 1;
    }
    let path = dir.join(format!("line-{kb}.js"));
    std::fs::write(&path, &text).unwrap();
    (0..2)
        .map(|_| {
            let start = Instant::now();
            let doc = scan_path(&path, &["--max-file-size", "20M"]);
            assert!(!doc["findings"].as_array().unwrap().is_empty());
            start.elapsed()
        })
        .min()
        .unwrap_or(Duration::ZERO)
        .as_secs_f64()
}

#[test]
fn many_findings_on_one_long_line_cost_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let tokens: Vec<String> = (0..64).map(github_token).collect();
    let piece = |i: usize| {
        let marker = if i % 3 == 0 { " # tollgate:allow" } else { "" };
        format!(
            "{} GITHUB_TOKEN={}{marker} ",
            "x".repeat(40),
            tokens[i % 64]
        )
    };
    let small = one_line_seconds(dir.path(), 500, piece);
    let large = one_line_seconds(dir.path(), 2000, piece);
    // Linear is 4x; the old per-match scan of the line was 16x and more.
    assert!(
        large < small * 9.0 + 0.5,
        "500 KB: {small:.2}s, 2 MB: {large:.2}s"
    );
}
