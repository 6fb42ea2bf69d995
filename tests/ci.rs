//! What a team sets up for CI: a `.tollgate.yaml` config (and its errors), baselines
//! that survive edits, rebases and squash merges, and `baseline prune`.

mod common;

use std::path::Path;

use common::{github_token, tollgate, Repo, STRIPE_KEY};
use serde_json::Value;

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "json output ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `tollgate <args>` in `dir`.
fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    tollgate().current_dir(dir).args(args).output().unwrap()
}

/// `tollgate <args> -f json` in `dir`: (exit code, document, stderr).
fn scan_in(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = tollgate()
        .current_dir(dir)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let doc = json(&out);
    (
        out.status.code().unwrap(),
        doc,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rules_found(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap();
            let path = path.strip_prefix("./").unwrap_or(path);
            format!("{path}:{}", f["rule_id"].as_str().unwrap())
        })
        .collect()
}

/// A tree with a GitHub token, a Stripe key, and the same token in a test fixture.
fn project() -> Repo {
    let repo = Repo::new(&[]);
    let token = github_token();
    repo.write("app/.env", &format!("GITHUB_TOKEN={token}\n"));
    repo.write("app/billing.env", &format!("STRIPE_KEY={STRIPE_KEY}\n"));
    repo.write("tests/fixtures/ci.env", &format!("GITHUB_TOKEN={token}\n"));
    repo
}

#[test]
fn the_config_at_the_scan_root_filters_paths_rules_and_secrets() {
    let repo = project();
    let (code, doc, _) = scan_in(&repo.path, &["dir", "."]);
    assert_eq!(code, 1);
    assert_eq!(rules_found(&doc).len(), 3, "{:?}", rules_found(&doc));

    repo.write(
        ".tollgate.yaml",
        "allow-paths: [tests/fixtures/]\nallow-secrets: ['^sk_live_51Hq8Z']\n",
    );
    let (code, doc, _) = scan_in(&repo.path, &["dir", "."]);
    assert_eq!(code, 1);
    let found = rules_found(&doc);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("app/.env:github."), "{found:?}");
    assert_eq!(doc["summary"]["skipped"]["allow_paths"], 1);
    assert_eq!(doc["summary"]["suppressed_config"], 1);

    // A rule the config disables, and a minimum confidence; --no-config ignores the file.
    let github_rule = found[0].split(':').nth(1).unwrap().to_string();
    repo.write(
        ".tollgate.yaml",
        &format!("disable-rules: [{github_rule}, generic.key-value]\nallow-paths: [tests/fixtures/]\nallow-secrets: ['^sk_live_51Hq8Z']\n"),
    );
    let (code, doc, _) = scan_in(&repo.path, &["dir", "."]);
    assert_eq!((code, rules_found(&doc).len()), (0, 0), "{doc}");
    let (_, doc, _) = scan_in(&repo.path, &["dir", ".", "--no-config"]);
    assert_eq!(rules_found(&doc).len(), 3);

    // --config FILE instead of the file at the root; flags win over the file.
    let other = repo.sibling("strict.yaml");
    std::fs::write(&other, "min-confidence: high\nmax-file-size: 10\n").unwrap();
    let config = other.to_str().unwrap();
    let (code, doc, _) = scan_in(&repo.path, &["dir", ".", "--config", config]);
    assert_eq!(code, 0, "every file is over 10 bytes");
    assert!(doc["summary"]["skipped"]["too_large"].as_u64().unwrap() >= 3);
    let (_, doc, _) = scan_in(
        &repo.path,
        &["dir", ".", "--config", config, "--max-file-size", "1M"],
    );
    assert_eq!(rules_found(&doc).len(), 3);
}

#[test]
fn history_scans_read_the_config_at_the_work_tree_root() {
    let repo = project();
    // `app/.env` and `tests/fixtures/ci.env` are the same blob: skipping the first path
    // must not skip the content at the second.
    repo.write(".tollgate.yaml", "allow-paths: ['/app']\n");
    repo.commit(&[], "project");
    let sub = repo.path.join("app");
    let (code, doc, _) = scan_in(&sub, &["git", "."]);
    assert_eq!(code, 1);
    let found = rules_found(&doc);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("tests/fixtures/ci.env:"), "{found:?}");
    assert_eq!(doc["summary"]["skipped"]["allow_paths"], 2);
}

#[test]
fn config_errors_name_the_file_and_line_and_stop_the_scan() {
    let repo = project();
    repo.write(
        ".tollgate.yaml",
        "min-confidence: medium\nallow-paths:\n  - docs/\nallow_secret: ['x']\n",
    );
    let out = run(&repo.path, &["dir", "."]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(".tollgate.yaml:4: unknown key `allow_secret`"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "no report after a config error");

    // `config check` says the same, and exits 1.
    let out = run(&repo.path, &["config", "check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".tollgate.yaml:4:"));

    // A rule id that does not exist is an error at its line, not a silent no-op.
    repo.write(
        ".tollgate.yaml",
        "disable-rules:\n  - github.pat-classic\n  - github.pat-clasic\n",
    );
    let out = run(&repo.path, &["config", "check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(".tollgate.yaml:3: `disable-rules`: no rule or check `github.pat-clasic`"),
        "{err}"
    );

    repo.write(
        ".tollgate.yaml",
        "rule-settings:\n  k8s.env-literal:\n    min-entropy: 3\n",
    );
    let out = run(&repo.path, &["config", "check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(":2: `rule-settings.k8s.env-literal`"));

    repo.write(
        ".tollgate.yaml",
        "disable-rules: [github.pat-classic]\nenable-rules: [k8s.env-secret-ref]\nrule-settings:\n  generic.key-value:\n    min-entropy: 3.5\n",
    );
    let out = run(&repo.path, &["config", "check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));
}

/// The baseline file a test made, as JSON.
fn baseline_file(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_baseline_hides_triaged_findings_and_holds_no_secret() {
    let repo = project();
    let out = run(&repo.path, &["baseline", "create", "dir", "."]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = repo.path.join(".tollgate-baseline.json");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(&github_token()[4..]) && !text.contains(&STRIPE_KEY[8..]));
    assert!(!text.contains("\"line\""));
    assert_eq!(
        baseline_file(&file)["findings"].as_array().unwrap().len(),
        3
    );

    let (code, doc, _) = scan_in(
        &repo.path,
        &["dir", ".", "--baseline", ".tollgate-baseline.json"],
    );
    assert_eq!(code, 0);
    assert_eq!(doc["summary"]["suppressed_baseline"], 3);

    // A new secret is reported; the triaged ones stay quiet; the summary line says so.
    repo.write("app/new.env", &format!("PAYMENTS={STRIPE_KEY}\n"));
    let (code, doc, _) = scan_in(
        &repo.path,
        &["dir", ".", "--baseline", ".tollgate-baseline.json"],
    );
    assert_eq!(code, 1);
    assert_eq!(rules_found(&doc).len(), 1);
    assert!(rules_found(&doc)[0].starts_with("app/new.env:"));
    let out = run(
        &repo.path,
        &["dir", ".", "--baseline", ".tollgate-baseline.json"],
    );
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human
            .lines()
            .last()
            .unwrap()
            .contains("suppressed 3 by baseline"),
        "{human}"
    );

    // Prune finds the default file by itself; nothing is stale.
    let out = run(&repo.path, &["baseline", "prune", "dir", "."]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 stale entries removed, 3 kept"));

    // A missing or broken baseline is an error, not an empty one.
    let out = run(&repo.path, &["dir", ".", "--baseline", "nope.json"]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::write(repo.path.join("bad.json"), "{\"findings\": 3}").unwrap();
    let out = run(&repo.path, &["dir", ".", "--baseline", "bad.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a tollgate baseline"));
}

/// Baseline the history of `main`, then check that `scan` of the rewritten history
/// reports nothing and suppresses the triaged secret.
fn assert_baselined(repo: &Repo, base: &Path, revision: &str) {
    let (code, doc, err) = scan_in(
        &repo.path,
        &["git", ".", revision, "--baseline", base.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{doc} {err}");
    assert!(doc["summary"]["suppressed_baseline"].as_u64().unwrap() >= 1);
}

#[test]
fn a_baseline_survives_edits_above_the_secret_a_rebase_and_a_squash_merge() {
    let repo = Repo::new(&[]);
    let token = github_token();
    repo.commit(
        &[("deploy/app.env", &format!("GITHUB_TOKEN={token}\n"))],
        "settings",
    );
    let base = repo.sibling("baseline.json");
    let out = run(
        &repo.path,
        &[
            "baseline",
            "create",
            "git",
            ".",
            "-o",
            base.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Lines inserted above the secret.
    repo.commit(
        &[(
            "deploy/app.env",
            &format!("# settings\nREGION=eu-west-1\nGITHUB_TOKEN={token}\n"),
        )],
        "comment",
    );
    assert_baselined(&repo, &base, "main");

    // A feature branch rebased onto a main that moved: new commit ids, same secret.
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.commit(
        &[(
            "deploy/app.env",
            &format!("# settings\nREGION=eu-west-1\nGITHUB_TOKEN={token}\nDEBUG=1\n"),
        )],
        "debug",
    );
    repo.git(&["checkout", "-q", "main"]);
    repo.commit(&[("README.md", "# app\n")], "readme");
    repo.git(&["checkout", "-q", "feature"]);
    repo.git(&["rebase", "-q", "main"]);
    assert_baselined(&repo, &base, "feature");

    // The feature squash-merged into main.
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["merge", "-q", "--squash", "feature"]);
    repo.git(&["commit", "-q", "-m", "feature (squashed)"]);
    assert_baselined(&repo, &base, "main");
    // And the work tree as `dir` sees it, with the same fingerprints.
    let (code, _, _) = scan_in(
        &repo.path,
        &["dir", ".", "--baseline", base.to_str().unwrap()],
    );
    assert_eq!(code, 0);

    // A range cannot tell a fixed entry from one outside it: no stale count, no prune.
    let (_, doc, _) = scan_in(
        &repo.path,
        &[
            "git",
            ".",
            "--range",
            "HEAD~1..HEAD",
            "--baseline",
            base.to_str().unwrap(),
        ],
    );
    assert_eq!(doc["summary"]["baseline_stale"], 0);
    let out = run(
        &repo.path,
        &[
            "baseline",
            "prune",
            "git",
            ".",
            "--range",
            "HEAD~1..HEAD",
            "--baseline",
            base.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs the whole history"));

    // The same secret at another path is not the triaged finding.
    repo.commit(&[("other/app.env", &format!("TOKEN={token}\n"))], "copy");
    let (code, doc, _) = scan_in(
        &repo.path,
        &["git", ".", "--baseline", base.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(rules_found(&doc)
        .iter()
        .all(|f| f.starts_with("other/app.env:")));
}

#[test]
fn prune_drops_entries_that_no_longer_match() {
    let repo = project();
    repo.write(".tollgate.yaml", "baseline: .tollgate-baseline.json\n");
    let out = run(&repo.path, &["baseline", "create", "dir", "."]);
    assert_eq!(out.status.code(), Some(0));
    let file = repo.path.join(".tollgate-baseline.json");
    assert_eq!(
        baseline_file(&file)["findings"].as_array().unwrap().len(),
        3
    );

    // The config names the baseline, so a plain scan applies it.
    std::fs::remove_file(repo.path.join("app/billing.env")).unwrap();
    let (code, doc, _) = scan_in(&repo.path, &["dir", "."]);
    assert_eq!(code, 0);
    assert_eq!(doc["summary"]["baseline_stale"], 1);

    let out = run(&repo.path, &["baseline", "prune", "dir", "."]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("stale  app/billing.env"), "{stdout}");
    let left = baseline_file(&file);
    let left = left["findings"].as_array().unwrap();
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|e| e["path"] != "app/billing.env"));
    let (_, doc, _) = scan_in(&repo.path, &["dir", "."]);
    assert_eq!(doc["summary"]["baseline_stale"], 0);
}
