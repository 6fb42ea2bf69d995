//! Whole-binary behaviour: the real `tollgate` executable over `fixtures/` and over
//! trees the tests build. One integration-test binary; each test gets its own temporary
//! directory when it needs one.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn tollgate() -> Command {
    let mut cmd = Command::cargo_bin("tollgate").expect("binary built");
    cmd.env_remove("CI").env("NO_COLOR", "1");
    cmd
}

fn run(args: &[&str]) -> Output {
    tollgate().args(args).output().expect("tollgate runs")
}

fn json_scan(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["dir", "--format", "json"];
    all.extend_from_slice(args);
    let out = run(&all);
    let code = out.status.code().expect("exit code");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "json output ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, doc)
}

fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"].as_array().expect("findings array")
}

fn rule_ids_for(doc: &Value, path_suffix: &str) -> Vec<String> {
    findings(doc)
        .iter()
        .filter(|f| f["path"].as_str().unwrap().ends_with(path_suffix))
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect()
}

/// The fake, checksum-valid GitHub token planted in `fixtures/app/.env`.
fn fixture_github_token() -> String {
    let env = std::fs::read_to_string(fixtures().join("app/.env")).unwrap();
    env.lines()
        .find_map(|l| l.strip_prefix("GITHUB_TOKEN="))
        .expect("fixture token")
        .to_string()
}

fn fixture(rel: &str) -> String {
    fixtures().join(rel).display().to_string()
}

#[test]
fn app_fixture_findings_cover_every_planted_secret() {
    let (code, doc) = json_scan(&[&fixture("app")]);
    assert_eq!(code, 1);
    let env = rule_ids_for(&doc, ".env");
    for family in ["aws.", "github.", "stripe.", "connstring."] {
        assert!(
            env.iter().any(|r| r.starts_with(family)),
            "{family} missing in .env: {env:?}"
        );
    }
    assert!(env.iter().any(|r| r.contains("access-key-id")), "{env:?}");
    assert!(
        env.iter().any(|r| r.contains("secret")),
        "AWS secret key missing: {env:?}"
    );
    for (file, family) in [
        (".npmrc", "npm."),
        ("settings.yaml", "slack."),
        ("settings.yaml", "generic."),
        ("client.py", "openai."),
        ("id_ed25519", "privatekey."),
        ("legacy_rsa.pem", "privatekey."),
    ] {
        let ids = rule_ids_for(&doc, file);
        assert!(
            ids.iter().any(|r| r.starts_with(family)),
            "{family} missing in {file}: {ids:?}"
        );
    }
    assert!(
        !rule_ids_for(&doc, "config.json").is_empty(),
        "docker auth missing"
    );
}

#[test]
fn checksummed_github_token_is_high_confidence_at_the_right_place() {
    let (_, doc) = json_scan(&[&fixture("app/.env")]);
    let gh = findings(&doc)
        .iter()
        .find(|f| f["rule_id"] == "github.pat-classic")
        .expect("github finding");
    assert_eq!(gh["confidence"], "high");
    assert_eq!(gh["line"], 6);
    assert_eq!(gh["column"], 14);
    assert_eq!(gh["secret"], "ghp_…");
    assert_eq!(gh["redacted"], true);
    assert_eq!(gh["fingerprint"].as_str().unwrap().len(), 32);
}

#[test]
fn base64_encoded_secret_is_reported_at_the_encoded_text() {
    let (_, doc) = json_scan(&[&fixture("app/encoded.txt")]);
    let f = &findings(&doc)[0];
    assert_eq!(f["decoded"], serde_json::json!(["base64"]));
    assert_eq!(f["line"], 2);
    assert_eq!(f["column"], 11);
}

#[test]
fn inline_allow_marker_suppresses_and_is_counted() {
    let (_, doc) = json_scan(&[&fixture("app/config/settings.yaml")]);
    assert!(findings(&doc).iter().all(|f| f["line"] != 13), "{doc}");
    assert_eq!(doc["summary"]["suppressed_inline"], 1);
}

#[test]
fn clean_fixtures_report_nothing() {
    let (code, doc) = json_scan(&[&fixture("clean")]);
    assert_eq!(findings(&doc).len(), 0, "{:#}", doc["findings"]);
    assert_eq!(code, 0);
    assert!(doc["summary"]["files_scanned"].as_u64().unwrap() >= 8);
}

#[test]
fn edge_cases_are_scanned_or_skipped_without_failing() {
    let (code, doc) = json_scan(&[&fixture("edge")]);
    assert_eq!(code, 1);
    assert_eq!(doc["summary"]["skipped"]["binary"], 1);
    assert!(rule_ids_for(&doc, "binary.bin").is_empty());
    assert!(rule_ids_for(&doc, "utf16.env").contains(&"github.pat-classic".to_string()));
    assert!(rule_ids_for(&doc, "latin1.properties")
        .iter()
        .any(|r| r.starts_with("npm.")));
    assert!(rule_ids_for(&doc, "broken.yaml").contains(&"github.pat-classic".to_string()));
}

#[test]
fn secrets_never_reach_output_unless_asked() {
    let token = fixture_github_token();
    for format in ["human", "json", "jsonl", "sarif"] {
        let out = run(&["dir", "--format", format, "-v", &fixture("app")]);
        let all = [out.stdout, out.stderr].concat();
        let text = String::from_utf8_lossy(&all);
        assert!(!text.contains(&token[4..]), "{format} leaks the token");
    }
    let out = run(&[
        "dir",
        "--format",
        "json",
        "--no-redact",
        &fixture("app/.env"),
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&token));
}

#[test]
fn exit_codes() {
    assert_eq!(run(&["dir", &fixture("clean")]).status.code(), Some(0));
    assert_eq!(run(&["dir", &fixture("app")]).status.code(), Some(1));
    assert_eq!(
        run(&["dir", "--exit-code", "7", &fixture("app")])
            .status
            .code(),
        Some(7)
    );
    let missing = run(&["dir", "/nonexistent/tollgate-path"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such file"));
    let unknown = run(&["dir", "--disable-rule", "no.such-rule", &fixture("clean")]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown rule id `no.such-rule`"));
    assert_eq!(run(&["dir", "--bogus-flag"]).status.code(), Some(2));
}

#[test]
fn rule_selection_flags() {
    let (_, doc) = json_scan(&["--only-rule", "github.pat-classic", &fixture("app")]);
    assert!(findings(&doc)
        .iter()
        .all(|f| f["rule_id"] == "github.pat-classic"));
    assert_eq!(doc["summary"]["rules"], 1);
    let (_, doc) = json_scan(&["--disable-rule", "github.pat-classic", &fixture("app/.env")]);
    assert!(findings(&doc)
        .iter()
        .all(|f| f["rule_id"] != "github.pat-classic"));
}

#[test]
fn min_confidence_filters_findings() {
    let (_, doc) = json_scan(&["--min-confidence", "high", &fixture("app")]);
    assert!(!findings(&doc).is_empty());
    assert!(findings(&doc).iter().all(|f| f["confidence"] == "high"));
}

const USER_RULE: &str = r#"rules:
  - id: acme.internal-token
    name: ACME internal service token
    keywords: [acme_]
    regex: '\b(?P<secret>acme_[a-z0-9]{24})\b'
    confidence: high
    examples: ['ACME=acme_k2j4h5g6f7d8s9a0q1w2e3r4', 'token: acme_z9x8c7v6b5n4m3l2k1j0h9g8']
    negative_examples: ['acme_ is our prefix', 'ACME=acme_short']
"#;

#[test]
fn user_rules_are_loaded_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("acme.yaml"), USER_RULE).unwrap();
    std::fs::write(
        dir.path().join("svc.env"),
        "ACME_TOKEN=acme_p0o9i8u7y6t5r4e3w2q1a2s3\n",
    )
    .unwrap();
    let rules = dir.path().join("acme.yaml").display().to_string();
    let (code, doc) = json_scan(&[
        "--rules",
        &rules,
        &dir.path().join("svc.env").display().to_string(),
    ]);
    assert_eq!(code, 1);
    assert_eq!(findings(&doc)[0]["rule_id"], "acme.internal-token");

    let ok = run(&["rules", "check", &rules]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let broken = USER_RULE.replace("acme_short", "acme_q1w2e3r4t5y6u7i8o9p0a1s2");
    std::fs::write(dir.path().join("acme.yaml"), broken).unwrap();
    let bad = run(&["rules", "check", &rules]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("negative example 2 matches"));
    std::fs::write(dir.path().join("acme.yaml"), "rules: [ {id: x").unwrap();
    let invalid = run(&["rules", "check", &rules]);
    assert_eq!(invalid.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&invalid.stderr).contains("acme.yaml"));
}

#[test]
fn builtin_pack_has_at_least_150_checked_rules() {
    let out = run(&["rules", "check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = run(&["rules", "list", "--json"]);
    let rules: Value = serde_json::from_slice(&list.stdout).unwrap();
    // Regex rules carry keywords and examples; manifest checks are listed too.
    let regex = rules
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("keywords").is_some())
        .count();
    assert!(regex >= 150, "{regex} rules");
}

#[test]
fn jsonl_is_one_finding_per_line() {
    let out = run(&["dir", "--format", "jsonl", &fixture("app")]);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (_, doc) = json_scan(&[&fixture("app")]);
    assert_eq!(lines.len(), findings(&doc).len());
    assert!(lines.iter().all(|l| l["rule_id"].is_string()));
}

#[test]
fn sarif_has_rules_results_and_fingerprints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.sarif");
    let out = run(&[
        "dir",
        "--format",
        "sarif",
        "-o",
        &path.display().to_string(),
        &fixture("app"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run0 = &sarif["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run0["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert_eq!(
            r["partialFingerprints"]["tollgate/v1"]
                .as_str()
                .unwrap()
                .len(),
            32
        );
        assert!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
                >= 1
        );
    }
    // The summary goes to stderr when the report goes to a file.
    assert!(String::from_utf8_lossy(&out.stderr).contains("findings"));
}

#[test]
fn human_output_groups_by_file_and_ends_with_a_summary() {
    let out = run(&["dir", &fixture("app/.env"), &fixture("app/.npmrc")]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{1b}'), "no colour when not a terminal");
    let env_header = text.lines().position(|l| l.ends_with(".env")).unwrap();
    let npmrc_header = text.lines().position(|l| l.ends_with(".npmrc")).unwrap();
    assert!(env_header < npmrc_header);
    let last = text.lines().last().unwrap();
    assert!(
        last.contains("findings (") && last.contains("in 2 files"),
        "{last}"
    );
}

#[test]
fn large_files_are_skipped_and_listed_with_verbose() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.log");
    let token_line = std::fs::read_to_string(fixtures().join("app/.env")).unwrap();
    std::fs::write(&big, token_line.repeat(200)).unwrap();
    let out = tollgate()
        .args(["dir", "--format", "json", "-v", "--max-file-size", "1K"])
        .arg(dir.path())
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["skipped"]["too_large"], 1);
    assert_eq!(findings(&doc).len(), 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("big.log"));
}

#[cfg(unix)]
#[test]
fn symlinks_loops_and_dangling_links_do_not_stop_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::copy(fixtures().join("app/.env"), dir.path().join("sub/real.env")).unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/loop")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("missing"), dir.path().join("dangling")).unwrap();
    let (code, doc) = json_scan(&[&dir.path().display().to_string()]);
    assert_eq!(code, 1);
    assert_eq!(doc["summary"]["skipped"]["symlink"], 2);
    let out = tollgate()
        .args(["dir", "--format", "json", "--follow-symlinks"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["summary"]["warnings"].as_u64().unwrap() >= 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning"));
}

#[test]
fn fingerprint_survives_edits_above_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.env");
    let env = std::fs::read_to_string(fixtures().join("app/.env")).unwrap();
    std::fs::write(&file, &env).unwrap();
    let fps = |doc: &Value| {
        let mut v: Vec<String> = findings(doc)
            .iter()
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let (_, before) = json_scan(&[&dir.path().display().to_string()]);
    std::fs::write(&file, format!("# a new comment\n\n{env}")).unwrap();
    let (_, after) = json_scan(&[&dir.path().display().to_string()]);
    assert_eq!(fps(&before), fps(&after));
    assert_ne!(findings(&before)[0]["line"], findings(&after)[0]["line"]);
}

#[test]
fn broken_pipe_is_not_an_error() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tollgate"))
        .args(["dir", "--format", "jsonl", &fixture("app")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        matches!(status.code(), Some(0) | Some(1)),
        "{status:?} {err}"
    );
}

#[cfg(unix)]
#[test]
fn a_named_fifo_is_not_read_and_the_scan_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let out = tollgate()
        .args(["dir", "--format", "json"])
        .arg(&fifo)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a path that could not be scanned is not clean"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
}

#[test]
fn regression_snippet_masks_values_no_rule_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cfg.sh");
    let token = fixture_github_token();
    std::fs::write(
        &file,
        format!("export GH={token}; mysql -u root -pHq7vRt2Lm9zXw --host db\n"),
    )
    .unwrap();
    for extra in [
        &[][..],
        &["--min-confidence", "high"][..],
        &["--only-rule", "github.pat-classic"][..],
    ] {
        let mut args = vec!["dir", "--format", "json"];
        args.extend_from_slice(extra);
        let path = file.display().to_string();
        args.push(&path);
        let out = run(&args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("Hq7vRt2Lm9zXw"), "{extra:?}: {text}");
        assert!(!text.contains(&token[4..]), "{extra:?}");
    }
}

#[test]
fn regression_control_characters_in_files_are_escaped_in_human_output() {
    let dir = tempfile::tempdir().unwrap();
    let token = fixture_github_token();
    std::fs::write(
        dir.path().join("x.env"),
        format!("T={token} # \u{1b}[3A\u{1b}[J0 findings\n"),
    )
    .unwrap();
    let out = tollgate()
        .args(["dir", "--color", "never"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        !out.stdout.contains(&0x1b),
        "raw escape reached the terminal"
    );
}

#[test]
fn thread_count_is_bounded() {
    let out = run(&["dir", "-j", "100000", &fixture("clean")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--threads must be between"));
}

#[test]
fn regression_several_secrets_in_one_encoded_blob_are_all_reported() {
    use base64::Engine as _;
    let env = std::fs::read_to_string(fixtures().join("app/.env")).unwrap();
    let npmrc = std::fs::read_to_string(fixtures().join("app/.npmrc")).unwrap();
    let inner = format!("{env}\n{npmrc}");
    let encoded = base64::engine::general_purpose::STANDARD.encode(inner);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("secret.yaml"),
        format!("data:\n  env: {encoded}\n"),
    )
    .unwrap();
    let (_, doc) = json_scan(&[&dir.path().display().to_string()]);
    let ids = rule_ids_for(&doc, "secret.yaml");
    for family in ["aws.", "github.", "stripe.", "connstring.", "npm."] {
        assert!(
            ids.iter().any(|r| r.starts_with(family)),
            "{family} missing: {ids:?}"
        );
    }
}

/// `--explain` answers "why was this not found?": each candidate a rule matched and
/// something dropped is listed with the reason, in the JSON `explain` array and, in
/// human form, on stderr; without the flag there is no `explain` at all.
#[test]
fn explain_lists_every_dropped_candidate_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.yaml"),
        "db:\n  password: changeme123\n  token_sha1: 4f0d2b8e9a7c6d5e3f1a2b4c6d8e0f1a3b5c7d9e\n  existingSecret: pg-credentials\n  api_token: 4f0d2b8e9a7c6d5e3f1a2b4c6d8e0f1a3b5c7d9e\n  secret: Rq7vT2mLx9Kz4Wp8 # tollgate:allow\n",
    )
    .unwrap();
    let path = dir.path().to_str().unwrap();
    let (_, doc) = json_scan(&[path, "--explain", "--no-progress"]);
    let explain = doc["explain"].as_array().expect("explain array");
    let reason_at = |line: u64| {
        explain
            .iter()
            .find(|e| e["line"] == line)
            .map(|e| e["reason"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("nothing explained on line {line}: {explain:?}"))
    };
    assert_eq!(reason_at(2), "placeholder or template");
    assert!(reason_at(3).contains("hex hash"), "{}", reason_at(3));
    assert!(reason_at(4).contains("kebab-case"), "{}", reason_at(4));
    assert_eq!(reason_at(6), "inline allow marker");
    // The 40-hex value named a token is reported, not explained away.
    assert_eq!(rule_ids_for(&doc, "app.yaml"), vec!["generic.key-value"]);
    assert!(explain.iter().all(|e| e["line"] != 5));
    // Redacted like findings.
    assert!(explain
        .iter()
        .all(|e| !e["secret"].as_str().unwrap().contains("Lx9Kz4Wp8")));

    let (_, plain) = json_scan(&[path, "--no-progress"]);
    assert!(plain.get("explain").is_none());

    let out = run(&["dir", path, "--explain", "--no-progress"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("app.yaml:3:") && stderr.contains("not reported: generic filter: hex hash"),
        "{stderr}"
    );
}

/// The rule pack loads (to check the config's rule ids) before the worker pool is sized:
/// loading it must not take the pool `--threads` asks for.
#[test]
fn threads_and_a_config_file_go_together() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".tollgate.yaml"), "min-confidence: low\n").unwrap();
    std::fs::write(dir.path().join("a.env"), "PASSWORD=\"Xk9pQ2vLm7Tz\"\n").unwrap();
    let out = tollgate()
        .args(["dir", "--threads", "2", "--format", "json"])
        .arg(dir.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("worker threads"), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(report["findings"].as_array().unwrap().len(), 1, "{report}");
}
