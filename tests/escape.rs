//! No file content, path, rule file, commit or ref name can drive the terminal: hostile
//! text (ESC and CSI sequences, OSC title sequences, BEL, C1 controls, the 8-bit CSI byte
//! 0x9B in text that is not UTF-8, bidirectional overrides, newlines) goes through every
//! format of the real CLI, and what comes out is checked character by character. Machine
//! formats must still read back: JSON to the same values, CSV cell for cell, JUnit as
//! well-formed XML.

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{git_in, github_token, tollgate, Repo};
use serde_json::Value;
use tempfile::TempDir;

/// Everything a display acts on: ESC sequences (CSI, OSC with BEL), the C1 CSI U+009B,
/// NEL, bidirectional override and isolate, a right-to-left mark.
const HOSTILE: &str = "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m\u{85}\u{202e}\u{2066}\u{200f}";

/// A rule file whose rule name is hostile and whose rule reports anything after
/// `HOSTILE=` as the secret, so that the secret itself carries the hostile text.
fn hostile_rules() -> String {
    format!(
        r#"rules:
  - id: test.hostile
    name: "Hostile {} rule"
    keywords: ['HOSTILE=']
    regex: 'HOSTILE=(?P<secret>[^\n]+)'
    confidence: high
    examples:
      - 'HOSTILE=Zq3T9xLm2VbN8cR4kW7y'
"#,
        yaml_escape(HOSTILE)
    )
}

/// `text` inside a YAML double-quoted scalar.
fn yaml_escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            c if c.is_control() || !c.is_ascii() => format!("\\u{:04X}", c as u32),
            '"' => "\\\"".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// The secret line, with a raw 0x9B byte (not UTF-8) among the hostile characters.
fn hostile_content() -> Vec<u8> {
    let mut content = b"HOSTILE=".to_vec();
    content.extend_from_slice(HOSTILE.as_bytes());
    content.extend_from_slice(b"\x9b2J\x07Zq3T9xLm2VbN8cR4kW7y\n");
    content.extend_from_slice(format!("GITHUB_TOKEN={}\n", github_token()).as_bytes());
    content
}

/// A file name with a newline (which would forge an output line), an escape sequence, a
/// bidirectional override and a byte that is not UTF-8.
fn hostile_name() -> &'static OsStr {
    OsStr::from_bytes(b"a\nb\x1b[2J\xe2\x80\xaetxt.\x9b.env")
}

/// The name as every output must show it: the byte that is not UTF-8 is U+FFFD, the rest
/// visible escapes.
const SHOWN_NAME: &str = "a\\u{a}b\\u{1b}[2J\\u{202e}txt.\u{FFFD}.env";

/// A character no output may carry as it is. Newlines separate lines and records; a tab
/// is only whitespace.
fn acts_on_display(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// Insist that `bytes` are UTF-8 (no stray 0x9B) with nothing a display acts on.
fn assert_display_safe(what: &str, bytes: &[u8]) -> String {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| {
        panic!(
            "{what}: not UTF-8 ({e}): {:?}",
            String::from_utf8_lossy(bytes)
        )
    });
    if let Some((at, c)) = text.char_indices().find(|&(_, c)| acts_on_display(c)) {
        let from = text[..at]
            .char_indices()
            .rev()
            .nth(40)
            .map_or(0, |(i, _)| i);
        panic!(
            "{what}: raw {c:?} (U+{:04X}) after {:?}",
            c as u32,
            &text[from..at]
        );
    }
    text.to_string()
}

fn run(args: &[&OsStr], dir: &Path) -> Output {
    tollgate().args(args).current_dir(dir).output().unwrap()
}

/// A directory with the hostile file, a Kubernetes manifest with hostile names, and the
/// hostile rule file beside it.
struct Scene {
    _tmp: TempDir,
    root: PathBuf,
}

impl Scene {
    fn new() -> Scene {
        let tmp = TempDir::new().unwrap();
        let root = tmp.path().to_path_buf();
        std::fs::write(root.join("rules.yaml"), hostile_rules()).unwrap();
        let scan = root.join("scan");
        std::fs::create_dir(&scan).unwrap();
        std::fs::write(scan.join(hostile_name()), hostile_content()).unwrap();
        let manifest = format!(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: "web{h}"
  namespace: "pay{h}"
spec:
  template:
    spec:
      containers:
        - name: "api{h}"
          env:
            - name: "TOKEN{h}"
              value: "{token}"
"#,
            h = yaml_escape(HOSTILE),
            token = github_token()
        );
        std::fs::write(scan.join("deploy.yaml"), manifest).unwrap();
        Scene { _tmp: tmp, root }
    }

    fn scan(&self, format: &str, extra: &[&str]) -> Output {
        let mut args: Vec<&OsStr> = ["dir", "scan", "--rules", "rules.yaml", "-v", "--format"]
            .iter()
            .map(OsStr::new)
            .collect();
        args.push(OsStr::new(format));
        args.extend(extra.iter().map(OsStr::new));
        run(&args, &self.root)
    }
}

const FORMATS: [&str; 7] = ["human", "json", "jsonl", "sarif", "gitlab", "junit", "csv"];

#[test]
fn no_format_of_a_directory_scan_passes_hostile_text_through() {
    let scene = Scene::new();
    for format in FORMATS {
        for extra in [&[][..], &["--no-redact"][..]] {
            let what = format!("{format} {extra:?}");
            let out = scene.scan(format, extra);
            assert_eq!(out.status.code(), Some(1), "{what}: {out:?}");
            let stdout = assert_display_safe(&format!("{what} stdout"), &out.stdout);
            assert_display_safe(&format!("{what} stderr"), &out.stderr);
            assert!(
                stdout.contains("Zq3T") || extra.is_empty(),
                "{what}: {stdout}"
            );
        }
    }
}

#[test]
fn the_human_report_shows_every_hostile_field_escaped() {
    let scene = Scene::new();
    let out = scene.scan("human", &["--no-redact"]);
    let text = assert_display_safe("human", &out.stdout);
    // The path stays on its line, the secret and the rule name show what they hold.
    assert!(text.contains(SHOWN_NAME), "{text}");
    assert!(
        text.contains("Hostile \\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{9b}31m\\u{85}\\u{202e}"),
        "{text}"
    );
    assert!(
        text.contains("secret: \\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{9b}31m"),
        "{text}"
    );
    assert!(
        text.contains("\u{FFFD}2J\\u{7}Zq3T9xLm2VbN8cR4kW7y"),
        "{text}"
    );
    // Kubernetes names, from the manifest.
    assert!(text.contains("Deployment pay\\u{1b}[2J"), "{text}");
    assert!(text.contains("container api\\u{1b}[2J"), "{text}");
    // Redacted, the four characters kept are escaped too.
    let out = scene.scan("human", &[]);
    let text = assert_display_safe("human redacted", &out.stdout);
    assert!(text.contains("secret: \\u{1b}[2J…"), "{text}");
}

#[test]
fn json_reports_escape_display_controls_and_read_back_to_the_same_values() {
    let scene = Scene::new();
    let raw_path = format!(
        "scan/{}",
        String::from_utf8_lossy(hostile_name().as_bytes())
    );
    let raw_secret = String::from_utf8_lossy(&hostile_content()[8..])
        .lines()
        .next()
        .unwrap()
        .to_string();
    let out = scene.scan("json", &["--no-redact"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "test.hostile")
        .expect("the hostile finding");
    assert_eq!(f["path"], raw_path.as_str());
    assert_eq!(f["secret"], raw_secret.as_str());
    assert!(f["rule_name"].as_str().unwrap().contains(HOSTILE));
    let k8s = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|f| f["k8s"]["container"].as_str().map(str::to_string))
        .expect("a finding in the manifest");
    assert_eq!(k8s, format!("api{HOSTILE}"));

    let out = scene.scan("jsonl", &["--no-redact"]);
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let _: Value = serde_json::from_str(line).expect("each line is JSON");
    }
    for format in ["sarif", "gitlab"] {
        let out = scene.scan(format, &["--no-redact"]);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut all = Vec::new();
        strings(&doc, &mut all);
        assert!(
            all.iter().any(|s| s.contains(HOSTILE)),
            "{format}: the values are the originals"
        );
    }
}

/// Every string in a JSON document.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => map.values().for_each(|i| strings(i, out)),
        _ => {}
    }
}

#[test]
fn csv_rows_stay_on_one_line_and_read_back_cell_for_cell() {
    let scene = Scene::new();
    let out = scene.scan("csv", &["--no-redact"]);
    let text = assert_display_safe("csv", &out.stdout);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let columns = reader.headers().unwrap().len();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(text.lines().count(), rows.len() + 1, "one line per row");
    let hostile = rows
        .iter()
        .find(|r| &r[0] == "test.hostile")
        .expect("the hostile row");
    assert_eq!(hostile.len(), columns);
    assert_eq!(&hostile[3], format!("scan/{SHOWN_NAME}"));
    assert!(
        hostile[8].starts_with("\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{9b}31m"),
        "{:?}",
        &hostile[8]
    );
    assert!(hostile[1].contains("\\u{202e}"), "{:?}", &hostile[1]);
}

#[test]
fn junit_is_well_formed_and_shows_hostile_text_escaped() {
    let scene = Scene::new();
    let out = scene.scan("junit", &["--no-redact"]);
    let text = assert_display_safe("junit", &out.stdout);
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let case = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("testcase")
                && n.attribute("name")
                    .is_some_and(|a| a.contains("test.hostile"))
        })
        .expect("the hostile testcase");
    assert_eq!(
        case.attribute("classname"),
        Some(&*format!("scan/{SHOWN_NAME}"))
    );
    let body = case
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .and_then(|n| n.text())
        .unwrap();
    assert!(
        body.contains("secret: \\u{1b}[2J\\u{1b}]0;pwned\\u{7}"),
        "{body}"
    );
}

/// Run git with a hostile identity.
fn git_as(dir: &Path, name: &str, email: &str, args: &[&OsStr]) {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", name)
        .env("GIT_AUTHOR_EMAIL", email)
        .env("GIT_COMMITTER_NAME", name)
        .env("GIT_COMMITTER_EMAIL", email)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// A repository whose commit has a hostile author, email, summary and path, and a branch
/// with a bidirectional override in its name that points to a missing object.
fn hostile_history() -> Repo {
    let repo = Repo::new(&[]);
    std::fs::write(repo.path.join("rules.yaml"), hostile_rules()).unwrap();
    std::fs::write(repo.path.join(hostile_name()), hostile_content()).unwrap();
    let os = |s: &str| OsStr::new(s).to_os_string();
    git_as(&repo.path, "x", "x@example.org", &[&os("add"), &os("-A")]);
    git_as(
        &repo.path,
        &format!("Eve{HOSTILE}"),
        &format!("eve{HOSTILE}@example.org"),
        &[
            &os("commit"),
            &os("-q"),
            &os("--cleanup=verbatim"),
            &os("-m"),
            &os(&format!("innocent{HOSTILE}summary")),
        ],
    );
    let branch = repo.path.join(".git/refs/heads/feature\u{202e}txt");
    std::fs::write(branch, "0123456789abcdef0123456789abcdef01234567\n").unwrap();
    repo
}

#[test]
fn history_fields_and_warnings_are_escaped_in_every_format() {
    let repo = hostile_history();
    for format in FORMATS {
        let args: Vec<&OsStr> = [
            "git",
            ".",
            "--rules",
            "rules.yaml",
            "--no-redact",
            "--format",
        ]
        .iter()
        .map(OsStr::new)
        .chain([OsStr::new(format)])
        .collect();
        let out = run(&args, &repo.path);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{format}: the broken ref: {out:?}"
        );
        let stdout = assert_display_safe(&format!("git {format} stdout"), &out.stdout);
        let stderr = assert_display_safe(&format!("git {format} stderr"), &out.stderr);
        assert!(stderr.contains("feature\\u{202e}txt"), "{stderr}");
        if format == "human" {
            assert!(stdout.contains("by Eve\\u{1b}[2J"), "{stdout}");
            assert!(stdout.contains("<eve\\u{1b}[2J"), "{stdout}");
            assert!(stdout.contains("innocent\\u{1b}[2J"), "{stdout}");
        }
        if format == "json" {
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            let git = &doc["findings"][0]["git"];
            assert_eq!(git["author_name"], format!("Eve{HOSTILE}").as_str());
            assert_eq!(git["summary"], format!("innocent{HOSTILE}summary").as_str());
        }
    }
}

#[test]
fn listings_errors_and_baseline_entries_are_escaped() {
    let scene = Scene::new();
    let arg = |s: &str| OsStr::new(s).to_os_string();
    let out = run(
        &[
            &arg("rules"),
            &arg("list"),
            &arg("--rules"),
            &arg("rules.yaml"),
        ],
        &scene.root,
    );
    let text = assert_display_safe("rules list", &out.stdout);
    assert!(text.contains("Hostile \\u{1b}[2J"), "{text}");
    let out = run(
        &[
            &arg("rules"),
            &arg("list"),
            &arg("--json"),
            &arg("--rules"),
            &arg("rules.yaml"),
        ],
        &scene.root,
    );
    assert_display_safe("rules list --json", &out.stdout);

    // An error quotes what it was given: a revision, a path.
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# x\n")], "start");
    let out = run(
        &[&arg("git"), &arg("."), &arg(&format!("no{HOSTILE}"))],
        &repo.path,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = assert_display_safe("bad revision", &out.stderr);
    assert!(stderr.contains("no\\u{1b}[2J"), "{stderr}");
    let out = run(&[&arg("dir"), hostile_name()], &scene.root);
    assert_eq!(out.status.code(), Some(2));
    assert_display_safe("missing path", &out.stderr);

    // A baseline file anyone can edit: its stale entries are listed escaped.
    let baseline = format!(
        r#"{{"version": 1, "tool": "x", "findings": [{{"path": "gone{p}", "rule_id": "r{p}", "fingerprint": "0123456789abcdef0123456789abcdef"}}]}}"#,
        p = serde_json::to_string(HOSTILE).unwrap().trim_matches('"')
    );
    std::fs::write(repo.path.join("baseline.json"), baseline).unwrap();
    let out = run(
        &[
            &arg("baseline"),
            &arg("prune"),
            &arg("git"),
            &arg("."),
            &arg("--baseline"),
            &arg("baseline.json"),
        ],
        &repo.path,
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = assert_display_safe("baseline prune", &out.stdout);
    assert!(text.contains("stale  gone\\u{1b}[2J"), "{text}");
}

/// A bare server with the hook installed, and a client that pushes to it.
fn server() -> (Repo, PathBuf) {
    let client = Repo::new(&[]);
    let bare = client.sibling("server.git");
    git_in(
        client.path.parent().unwrap(),
        &["init", "-q", "--bare", bare.to_str().unwrap()],
    );
    client.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    let out = tollgate()
        .args(["hook", "install", "--bare"])
        .arg(&bare)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for (key, value) in [
        ("tollgate.onError", "reject"),
        ("tollgate.onTimeout", "reject"),
        ("tollgate.timeout", "120s"),
        // The generic rules see the hostile secret; they are low confidence.
        ("tollgate.minConfidence", "low"),
    ] {
        git_in(&bare, &["config", key, value]);
    }
    (client, bare)
}

#[test]
fn the_hook_tells_the_pusher_about_hostile_paths_and_secrets_escaped() {
    let (client, bare) = server();
    std::fs::write(
        client.path.join(hostile_name()),
        format!(
            "password = \"{HOSTILE}Tr0ub4dor&3x!9Qz\"\nGITHUB_TOKEN={}\n",
            github_token()
        ),
    )
    .unwrap();
    client.git(&["add", "-A"]);
    client.git(&["commit", "-q", "-m", "hostile"]);
    let tip = client.git(&["rev-parse", "HEAD"]);

    // Through a real push: rejected, and what reaches the pusher is safe.
    let (ok, _, stderr) =
        common::git_output(&client.path, &["push", "origin", "HEAD:refs/heads/main"]);
    assert!(!ok, "the push is rejected: {stderr}");
    let stderr = assert_display_safe("git push", stderr.as_bytes());
    assert!(stderr.contains("push rejected"), "{stderr}");

    // The hook's own output, before git relays it: the objects are in the server's
    // store (pushed without the hook, then unreferenced), the update named by hand, on a
    // ref whose name carries a bidirectional override.
    let hook = bare.join("hooks/pre-receive");
    std::fs::rename(&hook, bare.join("hooks/off")).unwrap();
    client.git(&["push", "-q", "origin", "HEAD:refs/heads/staging"]);
    std::fs::rename(bare.join("hooks/off"), &hook).unwrap();
    git_in(&bare, &["update-ref", "-d", "refs/heads/staging"]);
    // A tag of a tree of its own: its file is reported at the tag's name.
    let loose = client.sibling("loose.env");
    std::fs::write(&loose, format!("GITHUB_TOKEN={}\n", github_token())).unwrap();
    let blob = git_in(&bare, &["hash-object", "-w", loose.to_str().unwrap()]);
    let index = client.sibling("tag-index");
    let with_index = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&bare)
            .env("GIT_INDEX_FILE", &index)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    with_index(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{blob},other.env"),
    ]);
    let tree = with_index(&["write-tree"]);
    let out = tollgate()
        .arg("pre-receive")
        .env("GIT_DIR", &bare)
        .write_stdin(format!(
            "{zero} {tip} refs/heads/main\u{202e}txt\n{zero} {tree} refs/tags/v\u{202e}1\n",
            zero = "0".repeat(40)
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = assert_display_safe("pre-receive", &out.stderr);
    assert!(stderr.contains(SHOWN_NAME), "{stderr}");
    assert!(stderr.contains("\\u{1b}[2J"), "{stderr}");
    assert!(stderr.contains("refs/tags/v\\u{202e}1"), "{stderr}");
}
