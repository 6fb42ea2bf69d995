//! The report formats end to end: the real binary over `fixtures/` and over trees and
//! repositories the tests build, each report parsed back by a reader that would refuse a
//! bad one (GitLab's JSON schema, an XML parser, a CSV parser).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{github_token, tollgate, Repo, STRIPE_KEY};
use serde_json::Value;
use tempfile::TempDir;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    tollgate()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("tollgate runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap_or_else(|e| {
        panic!(
            "output is not UTF-8 ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "json output ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The fake credentials planted in `fixtures/app/.env`, in full.
fn planted_secrets() -> Vec<String> {
    let env = std::fs::read_to_string(fixtures().join("app/.env")).unwrap();
    env.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(_, v)| v.to_string())
        .filter(|v| v.len() >= 20)
        .chain([github_token(), STRIPE_KEY.to_string()])
        .collect()
}

fn assert_no_secret_in(report: &str) {
    for secret in planted_secrets() {
        assert!(
            !report.contains(&secret),
            "an unredacted secret reached the report: {secret}"
        );
    }
}

/// The finding count the JSON report gives for the same scan.
fn json_count(dir: &Path, args: &[&str]) -> usize {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    json(&run_in(dir, &all))["findings"]
        .as_array()
        .expect("findings")
        .len()
}

// ---- GitLab ---------------------------------------------------------------------------

const GITLAB_SCHEMA: &str = include_str!("data/gitlab-secret-detection-report-format-15.2.4.json");

fn gitlab_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(GITLAB_SCHEMA).expect("vendored schema parses");
    jsonschema::draft7::new(&schema).expect("vendored schema compiles")
}

fn schema_errors(doc: &Value) -> Vec<String> {
    gitlab_validator()
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn assert_valid_gitlab(doc: &Value) {
    let errors = schema_errors(doc);
    assert!(
        errors.is_empty(),
        "GitLab would refuse this report: {errors:#?}"
    );
}

fn vulnerabilities(doc: &Value) -> &Vec<Value> {
    doc["vulnerabilities"].as_array().expect("vulnerabilities")
}

#[test]
fn the_vendored_schema_is_the_version_the_report_declares() {
    let schema: Value = serde_json::from_str(GITLAB_SCHEMA).unwrap();
    assert_eq!(
        schema["self"]["version"].as_str(),
        Some(tollgate::report::GITLAB_SCHEMA_VERSION)
    );
}

#[test]
fn gitlab_report_of_the_fixtures_matches_the_schema() {
    let root = fixtures();
    let out = run_in(&root, &["dir", ".", "--format", "gitlab"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    assert_valid_gitlab(&doc);
    assert_no_secret_in(&stdout(&out));

    assert_eq!(doc["version"], "15.2.4");
    let scan = &doc["scan"];
    assert_eq!(scan["type"], "secret_detection");
    assert_eq!(scan["status"], "success");
    assert_eq!(scan["analyzer"]["id"], "tollgate");
    assert_eq!(scan["scanner"]["vendor"]["name"], "tollgate");
    assert!(scan["start_time"].as_str().unwrap() <= scan["end_time"].as_str().unwrap());

    let vulns = vulnerabilities(&doc);
    assert_eq!(vulns.len(), json_count(&root, &["dir", "."]));
    let mut ids: Vec<&str> = vulns.iter().map(|v| v["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), vulns.len(), "ids are unique");
    for v in vulns {
        // A directory scan has no commit: GitLab's placeholder.
        assert_eq!(v["location"]["commit"]["sha"], "0000000");
        assert_eq!(v["category"], "secret_detection");
        assert!(v["location"]["start_line"].as_u64().unwrap() >= 1);
    }

    let github = vulns
        .iter()
        .find(|v| {
            v["location"]["file"] == "./app/.env"
                && v["identifiers"][0]["value"] == "github.pat-classic"
        })
        .expect("the GitHub token in app/.env");
    assert_eq!(github["location"]["start_line"], 6);
    assert!(["Critical", "High", "Medium"].contains(&github["severity"].as_str().unwrap()));
    assert!(github["raw_source_code_extract"]
        .as_str()
        .unwrap()
        .ends_with('…'));

    // Kubernetes context: in the description, the details and the identifiers.
    let in_deployment = vulns
        .iter()
        .find(|v| {
            v["location"]["file"] == "./k8s/workloads/deployment.yaml"
                && v["details"]["kubernetes"]["items"]["container"]["value"] == "api"
        })
        .expect("the literal password in the payments deployment");
    let k = &in_deployment["details"]["kubernetes"]["items"];
    assert_eq!(k["kind"]["value"], "Deployment");
    assert_eq!(k["namespace"]["value"], "payments");
    assert!(in_deployment["description"]
        .as_str()
        .unwrap()
        .contains("in Deployment payments/payments-api, container api"));
    let id_types: Vec<&str> = in_deployment["identifiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert!(
        id_types.contains(&"kubernetes_threat_matrix"),
        "{id_types:?}"
    );
    assert!(id_types.contains(&"mitre_attack"), "{id_types:?}");
}

#[test]
fn the_schema_check_would_catch_a_broken_report() {
    let out = run_in(&fixtures().join("app"), &["dir", ".", "--format", "gitlab"]);
    let good = json(&out);
    assert_valid_gitlab(&good);

    let mut no_sha = good.clone();
    no_sha["vulnerabilities"][0]["location"]["commit"]
        .as_object_mut()
        .unwrap()
        .remove("sha");
    assert!(!schema_errors(&no_sha).is_empty());

    let mut zoned = good.clone();
    zoned["scan"]["start_time"] = Value::from("2024-01-01T00:00:00Z");
    assert!(!schema_errors(&zoned).is_empty());

    let mut wrong_type = good;
    wrong_type["scan"]["type"] = Value::from("sast");
    assert!(!schema_errors(&wrong_type).is_empty());
}

#[test]
fn gitlab_ids_are_the_same_on_every_run() {
    let dir = fixtures().join("app");
    let ids = |out: &Output| -> Vec<String> {
        vulnerabilities(&json(out))
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect()
    };
    let first = ids(&run_in(&dir, &["dir", ".", "--format", "gitlab"]));
    let second = ids(&run_in(&dir, &["dir", ".", "--format", "gitlab"]));
    assert!(!first.is_empty());
    assert_eq!(first, second);
}

#[test]
fn gitlab_commit_fields_come_from_the_commit_that_added_the_secret() {
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# service\n")], "start");
    let token = github_token();
    let added = repo.commit(
        &[("deploy/.env", &format!("APP=1\nGITHUB_TOKEN={token}\n"))],
        "add deployment settings",
    );
    repo.commit(&[("README.md", "# service\n\nmore\n")], "docs");

    let out = tollgate()
        .arg("git")
        .arg(&repo.path)
        .args(["--format", "gitlab"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_valid_gitlab(&doc);
    assert!(!stdout(&out).contains(&token));
    let vulns = vulnerabilities(&doc);
    assert_eq!(vulns.len(), 1, "{vulns:#?}");
    let location = &vulns[0]["location"];
    assert_eq!(location["file"], "deploy/.env");
    assert_eq!(location["start_line"], 2);
    let commit = &location["commit"];
    assert_eq!(commit["sha"], added.as_str());
    assert_eq!(commit["author"], "Ada Author <ada@example.org>");
    assert_eq!(commit["message"], "add deployment settings");
    assert!(commit["date"].as_str().unwrap().contains('T'));
    assert_eq!(vulns[0]["details"]["commit"]["value"], added.as_str());
}

#[test]
fn a_clean_scan_is_a_valid_empty_gitlab_report() {
    let out = run_in(
        &fixtures().join("clean"),
        &["dir", ".", "--format", "gitlab"],
    );
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    assert_valid_gitlab(&doc);
    assert!(vulnerabilities(&doc).is_empty());
}

// ---- JUnit ----------------------------------------------------------------------------

fn testsuite<'a>(doc: &'a roxmltree::Document) -> roxmltree::Node<'a, 'a> {
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1);
    assert_eq!(suites[0].attribute("name"), Some("tollgate"));
    suites[0]
}

#[test]
fn junit_has_one_failing_testcase_per_finding() {
    let dir = fixtures().join("app");
    let out = run_in(&dir, &["dir", ".", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = stdout(&out);
    assert_no_secret_in(&xml);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let suite = testsuite(&doc);
    let expected = json_count(&dir, &["dir", "."]);
    assert!(expected > 0);
    assert_eq!(
        suite.attribute("tests"),
        Some(expected.to_string().as_str())
    );
    assert_eq!(
        suite.attribute("failures"),
        Some(expected.to_string().as_str())
    );
    assert_eq!(suite.attribute("errors"), Some("0"));
    assert!(suite.attribute("time").unwrap().parse::<f64>().is_ok());
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), expected);
    let env = cases
        .iter()
        .find(|c| {
            c.attribute("classname") == Some("./.env")
                && c.attribute("name").unwrap().contains("(line 6)")
        })
        .expect("the GitHub token's testcase");
    let failure = env.children().find(|n| n.has_tag_name("failure")).unwrap();
    let message = failure.attribute("message").unwrap();
    assert!(
        message.contains("high confidence, at ./.env:6:"),
        "{message}"
    );
    assert!(failure.text().unwrap().contains("fingerprint: "));
}

#[test]
fn junit_of_a_clean_scan_is_one_passing_testcase() {
    let out = run_in(
        &fixtures().join("clean"),
        &["dir", ".", "--format", "junit"],
    );
    assert_eq!(out.status.code(), Some(0));
    let xml = stdout(&out);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = testsuite(&doc);
    assert_eq!(suite.attribute("tests"), Some("1"));
    assert_eq!(suite.attribute("failures"), Some("0"));
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count(),
        0
    );
}

#[test]
fn junit_survives_a_hostile_path_and_shows_kubernetes_context() {
    let tmp = TempDir::new().unwrap();
    let hostile = "a<b>&\"c\"'d']]>\u{1}\u{1b}.env";
    std::fs::write(
        tmp.path().join(hostile),
        format!("GITHUB_TOKEN={}\n", github_token()),
    )
    .unwrap();
    std::fs::create_dir(tmp.path().join("k8s")).unwrap();
    std::fs::copy(
        fixtures().join("k8s/workloads/deployment.yaml"),
        tmp.path().join("k8s/deployment.yaml"),
    )
    .unwrap();
    let out = run_in(tmp.path(), &["dir", ".", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = stdout(&out);
    assert!(!xml.contains('\u{1}') && !xml.contains('\u{1b}'));
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let suite = testsuite(&doc);
    let classnames: Vec<&str> = suite
        .children()
        .filter_map(|n| n.attribute("classname"))
        .collect();
    assert!(
        classnames
            .iter()
            .any(|c| c.starts_with("./a<b>&\"c\"'d']]>") && c.ends_with(".env")),
        "{classnames:?}"
    );
    let messages: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .filter_map(|n| n.attribute("message"))
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("in Deployment payments/payments-api, container api")),
        "{messages:#?}"
    );
}

// ---- CSV ------------------------------------------------------------------------------

#[test]
fn csv_has_a_header_and_one_row_per_finding() {
    let dir = fixtures();
    let out = run_in(&dir, &["dir", ".", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert_no_secret_in(&text);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, tollgate::report::CSV_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), json_count(&dir, &["dir", "."]));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let deployment = rows
        .iter()
        .find(|r| {
            &r[col("path")] == "./k8s/workloads/deployment.yaml"
                && &r[col("k8s_container")] == "api"
        })
        .expect("the deployment's password");
    assert_eq!(&deployment[col("k8s_kind")], "Deployment");
    assert_eq!(&deployment[col("k8s_namespace")], "payments");
    assert_eq!(&deployment[col("k8s_env")], "DB_PASSWORD");
    assert_eq!(&deployment[col("technique")], "MS-TA9027");
    for r in &rows {
        assert!(r[col("line")].parse::<usize>().unwrap() >= 1);
        assert_eq!(r[col("fingerprint")].len(), 32);
    }
}

#[test]
fn csv_defuses_cells_a_spreadsheet_would_run() {
    let tmp = TempDir::new().unwrap();
    let name = "=HYPERLINK(\"http:,x\").env";
    std::fs::write(
        tmp.path().join(name),
        format!("GITHUB_TOKEN={}\n", github_token()),
    )
    .unwrap();
    let out = run_in(tmp.path(), &["dir", name, "--format", "csv"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let path = &rows[0][3];
    assert!(path.starts_with('\'') && path.ends_with(name), "{path}");
    for cell in rows[0].iter() {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a live formula: {cell}"
        );
    }
}

// ---- SARIF fingerprints -----------------------------------------------------------------

fn sarif_fingerprint(dir: &Path, rel: &str) -> (String, u64) {
    let out = run_in(dir, &["dir", ".", "--format", "sarif"]);
    let doc = json(&out);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let r = results
        .iter()
        .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == rel)
        .unwrap_or_else(|| panic!("a result in {rel}: {results:#?}"));
    (
        r["partialFingerprints"]["tollgate/v1"]
            .as_str()
            .unwrap()
            .to_string(),
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap(),
    )
}

#[test]
fn sarif_fingerprint_survives_lines_inserted_above_and_depends_on_the_path() {
    let tmp = TempDir::new().unwrap();
    let secret = format!("GITHUB_TOKEN={}\n", github_token());
    std::fs::create_dir(tmp.path().join("svc")).unwrap();
    std::fs::write(tmp.path().join("svc/.env"), &secret).unwrap();
    let (before, line_before) = sarif_fingerprint(tmp.path(), "svc/.env");
    assert_eq!(line_before, 1);

    std::fs::write(
        tmp.path().join("svc/.env"),
        format!("# settings\nAPP_ENV=production\nLOG_LEVEL=info\n\n{secret}"),
    )
    .unwrap();
    let (after, line_after) = sarif_fingerprint(tmp.path(), "svc/.env");
    assert_eq!(line_after, 5);
    assert_eq!(
        before, after,
        "inserting lines above must not change the fingerprint"
    );

    std::fs::create_dir(tmp.path().join("other")).unwrap();
    std::fs::write(tmp.path().join("other/.env"), &secret).unwrap();
    let (elsewhere, _) = sarif_fingerprint(tmp.path(), "other/.env");
    assert_ne!(before, elsewhere, "another path is another finding");
}

// ---- -o --------------------------------------------------------------------------------

#[test]
fn with_o_the_report_goes_to_the_file_and_the_summary_to_stderr() {
    let tmp = TempDir::new().unwrap();
    for (format, check) in [
        ("gitlab", "\"secret_detection\""),
        ("junit", "<testsuite name=\"tollgate\""),
        ("csv", "rule_id,rule_name,confidence"),
    ] {
        let file = tmp.path().join(format!("report.{format}"));
        let out = tollgate()
            .current_dir(fixtures().join("app"))
            .args(["dir", ".", "--format", format, "-o"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty(), "{format}: nothing on stdout");
        let report = std::fs::read_to_string(&file).unwrap();
        assert!(report.contains(check), "{format}: {report}");
        assert_no_secret_in(&report);
        assert!(
            !out.stderr.is_empty(),
            "{format}: the summary goes to stderr"
        );
    }
}

#[test]
fn no_redact_shows_the_secret_only_when_asked() {
    let dir = fixtures().join("app");
    let out = run_in(&dir, &["dir", ".", "--format", "csv", "--no-redact"]);
    assert!(stdout(&out).contains(&github_token()));
    let out = run_in(&dir, &["dir", ".", "--format", "gitlab", "--no-redact"]);
    assert!(stdout(&out).contains(&github_token()));
}
