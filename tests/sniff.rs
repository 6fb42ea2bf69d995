//! How each source decides what is text (`src/source/sniff.rs`): no byte-order mark,
//! NUL byte, LFS-pointer prefix or file name a pusher picks makes a secret that git shows
//! as text (or that a UTF-16/32 reader shows) disappear, in `dir`, `git`, `git --range`
//! and `staged`; and every path that cannot be read makes a directory scan incomplete.
//! Pushes through the hook are in tests/evasion.rs.

mod common;

use std::path::Path;
use std::process::Output;

use common::{github_token, tollgate, Repo};
use serde_json::Value;

const OID: &str = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

fn utf32(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0, 0, 0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE, 0, 0]
    };
    for c in text.chars() {
        let c = c as u32;
        out.extend_from_slice(&if big_endian {
            c.to_be_bytes()
        } else {
            c.to_le_bytes()
        });
    }
    out
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Files that each hold the token as some reader shows it (on line 3, but for the one
/// after an LFS pointer: line 4), named so that the name says the trick.
fn evasions() -> Vec<(&'static str, Vec<u8>)> {
    let line = format!("GITHUB_TOKEN={}\n", github_token());
    let text = format!("# config\n\n{line}");
    // A NUL byte past git's 8000-byte window: git still shows the file as text.
    let late_nul = format!("#{}\n\0\n{line}", "a".repeat(8100));
    vec![
        ("ff-fe-then-ascii.env", cat(&[b"\xFF\xFE", text.as_bytes()])),
        ("fe-ff-then-ascii.env", cat(&[b"\xFE\xFF", text.as_bytes()])),
        ("utf8-bom.env", cat(&[b"\xEF\xBB\xBF", text.as_bytes()])),
        ("utf16le.ps1", utf16(&text, false)),
        ("utf16be.ps1", utf16(&text, true)),
        ("utf32le.txt", utf32(&text, false)),
        ("utf32be.txt", utf32(&text, true)),
        // U+0000 characters and an unpaired surrogate in real UTF-16.
        (
            "utf16-with-nul-chars.ps1",
            cat(&[
                &utf16("\0\0", false),
                &[0x00, 0xD8],
                &utf16(&format!("\n\n{line}"), false)[2..],
            ]),
        ),
        (
            "mark-and-late-nul.txt",
            cat(&[b"\xFF\xFE", late_nul.as_bytes()]),
        ),
        ("late-nul.txt", late_nul.into_bytes()),
        // Real UTF-16 whose first 8000 bytes have no zero byte: git shows it as text, and
        // the token is in its UTF-16 reading only.
        (
            "utf16-cjk-first.ps1",
            utf16(&format!("{}\n\n{line}", "中".repeat(4100)), false),
        ),
        // Distinct contents: a blob shared by two paths is scanned once.
        ("leak.png", format!("# png\n\n{line}").into_bytes()),
        ("vendor/app.jar", format!("# jar\n\n{line}").into_bytes()),
        (
            "model.bin",
            format!(
                "version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\n{line}size 12\n"
            )
            .into_bytes(),
        ),
        (
            "after-pointer.bin",
            format!(
                "version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\nsize 12\n{line}"
            )
            .into_bytes(),
        ),
    ]
}

/// What no reader shows as text, or a real pointer: skipped, and counted.
fn not_text() -> Vec<(&'static str, Vec<u8>)> {
    let line = format!("GITHUB_TOKEN={}\n", github_token());
    vec![
        (
            "real.png",
            cat(&[b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", line.as_bytes()]),
        ),
        (
            "real-pointer.bin",
            format!("version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\nsize 12\n")
                .into_bytes(),
        ),
    ]
}

fn write_all(root: &Path, files: &[(&str, Vec<u8>)]) {
    for (rel, bytes) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
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

fn run(args: &[&str], cwd: &Path) -> (i32, Value, Output) {
    let out = tollgate()
        .args(args)
        .args(["--format", "json", "--no-progress"])
        .current_dir(cwd)
        .output()
        .expect("tollgate runs");
    (out.status.code().expect("exit code"), json(&out), out)
}

/// (path relative to `root`, line) of every GitHub token found.
fn token_lines(doc: &Value, root: &str) -> Vec<(String, u64)> {
    let mut all: Vec<_> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule_id"].as_str().unwrap().starts_with("github."))
        .map(|f| {
            let path = f["path"].as_str().unwrap();
            let rel = path
                .strip_prefix(root)
                .unwrap_or(path)
                .trim_start_matches('/');
            (rel.to_string(), f["line"].as_u64().unwrap())
        })
        .collect();
    all.sort();
    all.dedup();
    all
}

/// Every evasion file is reported, on the line the token is on, and nothing else.
fn assert_every_evasion_found(code: i32, doc: &Value, root: &str) {
    assert_eq!(code, 1, "{doc}");
    let found = token_lines(doc, root);
    let mut expected: Vec<(String, u64)> = evasions()
        .into_iter()
        .map(|(name, _)| {
            (
                name.to_string(),
                if name == "after-pointer.bin" { 4 } else { 3 },
            )
        })
        .collect();
    expected.sort();
    assert_eq!(found, expected);
    assert_eq!(doc["summary"]["skipped"]["binary"], 1, "{doc}");
    assert_eq!(doc["summary"]["skipped"]["lfs_pointer"], 1, "{doc}");
}

#[test]
fn dir_finds_text_behind_every_mark_nul_pointer_prefix_and_name() {
    let dir = tempfile::tempdir().unwrap();
    write_all(dir.path(), &evasions());
    write_all(dir.path(), &not_text());
    let root = dir.path().display().to_string();
    let (code, doc, _) = run(&["dir", &root], dir.path());
    assert_every_evasion_found(code, &doc, &root);
}

fn repo_with_evasions_committed() -> (Repo, String) {
    let repo = Repo::new(&[]);
    let base = repo.commit(&[("README.md", "# x\n")], "start");
    write_all(&repo.path, &evasions());
    write_all(&repo.path, &not_text());
    repo.commit(&[], "assets");
    (repo, base)
}

#[test]
fn history_and_range_find_text_behind_every_mark_nul_pointer_prefix_and_name() {
    let (repo, base) = repo_with_evasions_committed();
    let (code, doc, _) = run(&["git", "."], &repo.path);
    assert_every_evasion_found(code, &doc, "");
    assert_eq!(doc["summary"]["history"]["complete"], true);
    let range = format!("{base}..HEAD");
    let (code, doc, _) = run(&["git", ".", "--range", &range], &repo.path);
    assert_every_evasion_found(code, &doc, "");
}

#[test]
fn staged_finds_text_behind_every_mark_nul_pointer_prefix_and_name() {
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# x\n")], "start");
    write_all(&repo.path, &evasions());
    write_all(&repo.path, &not_text());
    repo.git(&["add", "-A"]);
    let (code, doc, _) = run(&["staged"], &repo.path);
    assert_every_evasion_found(code, &doc, "");
}

/// A file edited in the range: its old version is read the way the new one is, so only
/// the token the edit added is reported, whatever the encoding and whatever mark
/// precedes it.
#[test]
fn a_range_reads_the_old_version_of_a_file_as_it_reads_the_new_one() {
    let old_token = github_token();
    let new_token = {
        let body = "Qx7mRt2LpV9nWc4KsZ8bHj3YdF6gAe";
        let crc = u64::from(crc32fast::hash(body.as_bytes()));
        format!("ghp_{body}{}", tollgate::engine::checksum::base62(crc, 6))
    };
    let before = format!("a=1\nOLD_TOKEN={old_token}\n");
    let after = format!("a=1\nOLD_TOKEN={old_token}\nNEW_TOKEN={new_token}\n");
    let cases: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
        (
            "mark.env",
            cat(&[b"\xFF\xFE", before.as_bytes()]),
            cat(&[b"\xFF\xFE", after.as_bytes()]),
        ),
        ("utf16.ps1", utf16(&before, false), utf16(&after, false)),
        ("utf32.txt", utf32(&before, true), utf32(&after, true)),
        // Re-encoded in the same commit: the old line is the same text.
        (
            "reencoded.ps1",
            format!("b{before}").into_bytes(),
            utf16(&format!("b{after}"), false),
        ),
        // A mark and a NUL past the window: read as it is and as UTF-16, old and new.
        (
            "both-readings.txt",
            cat(&[
                b"\xFF\xFE",
                format!("#{}\n\0\n{before}", "a".repeat(8100)).as_bytes(),
            ]),
            cat(&[
                b"\xFF\xFE",
                format!("#{}\n\0\n{after}", "a".repeat(8100)).as_bytes(),
            ]),
        ),
    ];
    let repo = Repo::new(&[]);
    for (name, old, _) in &cases {
        std::fs::write(repo.path.join(name), old).unwrap();
    }
    repo.commit(&[], "old");
    let base = repo.git(&["rev-parse", "HEAD"]);
    for (name, _, new) in &cases {
        std::fs::write(repo.path.join(name), new).unwrap();
    }
    repo.commit(&[], "new");
    let range = format!("{base}..HEAD");
    let (code, doc, _) = run(&["git", ".", "--range", &range, "--no-redact"], &repo.path);
    assert_eq!(code, 1);
    let mut expected: Vec<(String, u64)> = cases
        .iter()
        .map(|c| {
            (
                c.0.to_string(),
                if c.0 == "both-readings.txt" { 5 } else { 3 },
            )
        })
        .collect();
    expected.sort();
    assert_eq!(token_lines(&doc, ""), expected, "{doc}");
    let secrets: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    assert_eq!(secrets, vec![new_token.as_str(); cases.len()]);
    assert_eq!(doc["summary"]["suppressed_not_added"], cases.len());
}

#[cfg(unix)]
#[test]
fn named_paths_that_cannot_be_read_are_an_incomplete_scan() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::os::unix::fs::symlink("nowhere", p.join("dangling")).unwrap();
    std::os::unix::fs::symlink("loop-b", p.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", p.join("loop-b")).unwrap();
    let fifo = p.join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for named in ["dangling", "loop-a", "pipe"] {
        let (code, doc, out) = run(&["dir", named], p);
        assert_eq!(code, 2, "{named}: {doc}");
        assert_eq!(doc["summary"]["roots_unscanned"], 1, "{named}: {doc}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("warning") && stderr.contains(named),
            "{stderr}"
        );
    }
    let out = tollgate()
        .args(["dir", "missing", "--no-progress"])
        .current_dir(p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
}

/// Root reads everything, so the test drops to `nobody` when it runs as root (and needs
/// `setpriv` then); as another user, mode 000 is enough.
#[cfg(unix)]
#[test]
fn permission_denied_anywhere_is_an_incomplete_scan_even_with_findings() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("locked")).unwrap();
    std::fs::write(
        tree.join("found.env"),
        format!("GITHUB_TOKEN={}\n", github_token()),
    )
    .unwrap();
    std::fs::write(tree.join("locked/hidden.env"), "x=1\n").unwrap();
    std::fs::write(tree.join("secret.env"), "x=1\n").unwrap();
    for (path, mode) in [
        (dir.path().to_path_buf(), 0o755),
        (tree.clone(), 0o755),
        (tree.join("found.env"), 0o644),
        (tree.join("locked"), 0o000),
        (tree.join("secret.env"), 0o000),
    ] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let as_root = unsafe { libc::geteuid() } == 0;
    let binary = env!("CARGO_BIN_EXE_tollgate");
    let run_as_user = |args: &[&str]| {
        let mut cmd = if as_root {
            let mut c = std::process::Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(binary);
            c
        } else {
            std::process::Command::new(binary)
        };
        cmd.args(args)
            .args(["--format", "json", "--no-progress"])
            .current_dir(dir.path())
            .env_remove("CI")
            .output()
            .expect("runs")
    };
    let out = run_as_user(&["dir", "tree"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(2), "{doc}");
    assert_eq!(doc["summary"]["skipped"]["unreadable"], 2, "{doc}");
    assert_eq!(
        token_lines(&doc, ""),
        vec![("tree/found.env".to_string(), 1)]
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tree/locked") && stderr.contains("tree/secret.env"),
        "{stderr}"
    );
    let out = run_as_user(&["dir", "tree/secret.env"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A link inside a followed tree that leads to no content (a loop back up, a missing
/// target, a chain of links round itself) is a warning, not unread content.
#[cfg(unix)]
#[test]
fn links_to_nothing_inside_a_followed_tree_leave_the_scan_complete() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/a.txt"), "x=1\n").unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/up")).unwrap();
    std::os::unix::fs::symlink("nowhere", dir.path().join("dangling")).unwrap();
    std::os::unix::fs::symlink("self", dir.path().join("self")).unwrap();
    let root = dir.path().display().to_string();
    let (code, doc, out) = run(&["dir", &root, "--follow-symlinks"], dir.path());
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["summary"]["skipped"]["unreadable"], 0);
    assert_eq!(doc["summary"]["skipped"]["symlink"], 3);
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning"));
}

/// A huge binary under a huge `--max-file-size` is judged by its first 8000 bytes: the
/// scan neither reads 64 GiB of holes nor allocates room for them.
#[cfg(unix)]
#[test]
fn a_huge_binary_under_a_huge_size_limit_is_judged_by_its_head() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(64 << 30)
        .unwrap();
    let started = std::time::Instant::now();
    let (code, doc, _) = run(&["dir", "disk.img", "--max-file-size", "100G"], dir.path());
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["summary"]["skipped"]["binary"], 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}
