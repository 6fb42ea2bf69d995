//! Bytes chosen to make a sniffing step look away (byte-order marks, line endings, a NUL
//! past the binary window, a binary-looking name, a `.gitattributes` binary mark, a fake
//! LFS header, nested base64, percent-encoding, a far-away allow marker), each pushed, scanned with
//! `tollgate dir` and audited with `tollgate git`: every one must find the secret.

use base64::Engine as _;

use super::{assert_rejected_for, json_findings, server_with_main, GITHUB_RULE};
use crate::common::{github_token, token_line, tollgate, Repo};

/// One evasion: the files written, and the file whose secret must be found.
struct Case {
    files: Vec<(&'static str, Vec<u8>)>,
    secret_in: &'static str,
}

fn one_file(path: &'static str, bytes: Vec<u8>) -> Case {
    Case {
        files: vec![(path, bytes)],
        secret_in: path,
    }
}

/// `prefix`, a newline, then a plain ASCII token line: the issue's `FF FE` repro shape.
fn ascii_after(prefix: &[u8]) -> Vec<u8> {
    [prefix, b"\n", token_line().as_bytes()].concat()
}

fn utf16(big_endian: bool, text: &str) -> Vec<u8> {
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

fn utf32(big_endian: bool, text: &str) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0, 0, 0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE, 0, 0]
    };
    for c in text.chars() {
        let c = u32::from(c);
        out.extend_from_slice(&if big_endian {
            c.to_be_bytes()
        } else {
            c.to_le_bytes()
        });
    }
    out
}

fn bom_ff_fe_then_ascii() -> Case {
    one_file("app.env", ascii_after(&[0xFF, 0xFE]))
}

fn bom_fe_ff_then_ascii() -> Case {
    one_file("app.env", ascii_after(&[0xFE, 0xFF]))
}

fn bom_utf8() -> Case {
    one_file(
        "app.env",
        [&[0xEF, 0xBB, 0xBF][..], token_line().as_bytes()].concat(),
    )
}

fn bom_utf32_le_then_ascii() -> Case {
    one_file("app.env", ascii_after(&[0xFF, 0xFE, 0, 0]))
}

fn bom_utf32_be_then_ascii() -> Case {
    one_file("app.env", ascii_after(&[0, 0, 0xFE, 0xFF]))
}

fn utf16_le_file() -> Case {
    one_file(
        "win.ps1",
        utf16(false, &format!("$x = 1\r\n{}", token_line())),
    )
}

fn utf16_be_file() -> Case {
    one_file(
        "win.ps1",
        utf16(true, &format!("$x = 1\r\n{}", token_line())),
    )
}

/// Real UTF-16 with a stray last byte: the units before it are still text.
fn utf16_le_odd_length() -> Case {
    let mut bytes = utf16(false, &token_line());
    bytes.push(b'!');
    one_file("win.ps1", bytes)
}

/// A real UTF-16 first line, then plain ASCII: a sniffer that trusts the start would
/// transcode the ASCII tail into CJK-looking code units.
fn utf16_le_then_ascii() -> Case {
    let mut bytes = utf16(false, "# settings\n");
    bytes.extend_from_slice(token_line().as_bytes());
    one_file("app.env", bytes)
}

fn utf32_le_file() -> Case {
    one_file("app.env", utf32(false, &format!("A=1\n{}", token_line())))
}

fn utf32_be_file() -> Case {
    one_file("app.env", utf32(true, &format!("A=1\n{}", token_line())))
}

fn crlf_lines() -> Case {
    let text = format!("A=1\r\n{}B=2\r\n", token_line().replace('\n', "\r\n"));
    one_file("app.env", text.into_bytes())
}

fn lone_cr_lines() -> Case {
    let text = format!("A=1\r{}B=2\r", token_line().replace('\n', "\r"));
    one_file("app.env", text.into_bytes())
}

/// Git's binary test looks at the first 8000 bytes only, so this file is text to git.
fn nul_past_the_binary_window() -> Case {
    let mut bytes = "filler line\n".repeat(700).into_bytes();
    assert!(bytes.len() > 8000);
    bytes.extend_from_slice(b"\0\n");
    bytes.extend_from_slice(token_line().as_bytes());
    one_file("app.log", bytes)
}

fn text_named_png() -> Case {
    one_file("leak.png", token_line().into_bytes())
}

fn text_named_jar() -> Case {
    one_file("x.jar", token_line().into_bytes())
}

/// `binary` in `.gitattributes` only changes how git diffs and merges the file.
fn gitattributes_binary_path() -> Case {
    Case {
        files: vec![
            (".gitattributes", b"*.env binary\n".to_vec()),
            ("app.env", token_line().into_bytes()),
        ],
        secret_in: "app.env",
    }
}

/// A valid-looking LFS pointer header, then content that an LFS pointer never has.
fn fake_lfs_pointer_header() -> Case {
    let text = format!(
        "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize 12345\n{}",
        "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393",
        token_line()
    );
    one_file("model.bin.txt", text.into_bytes())
}

/// Two layers of base64, within the default decode depth of 2.
fn base64_inside_base64() -> Case {
    let b64 = base64::engine::general_purpose::STANDARD;
    let twice = b64.encode(b64.encode(token_line()));
    one_file("payload.txt", format!("payload: {twice}\n").into_bytes())
}

/// A committed Kubernetes Secret: `data:` values are base64 of the secret.
fn kubernetes_secret_data() -> Case {
    let b64 = base64::engine::general_purpose::STANDARD;
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ci\ntype: Opaque\ndata:\n  token: {}\n",
        b64.encode(github_token())
    );
    one_file("deploy/ci-secret.yaml", manifest.into_bytes())
}

/// Every byte of the token line percent-encoded, as in a URL query.
fn percent_encoded() -> Case {
    let encoded: String = token_line()
        .trim_end()
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    one_file(
        "links.txt",
        format!("https://ci.example.org/hook?cfg={encoded}\n").into_bytes(),
    )
}

/// One minified JSON line: the marker is 4,000 characters away from the token and
/// annotates nothing.
fn allow_marker_far_away_on_one_line() -> Case {
    let padding = "lorem ipsum dolor ".repeat(225);
    let line = format!(
        r#"{{"token":"{}","about":"{padding}","note":"tollgate:allow"}}"#,
        github_token()
    );
    assert!(line.len() > 4000);
    one_file("bundle.min.json", format!("{line}\n").into_bytes())
}

fn pushed_and_rejected(case: Case) {
    let s = server_with_main();
    for (path, bytes) in &case.files {
        s.client.write_bytes(path, bytes);
    }
    let bad = s.client.commit(&[], "evasion attempt");
    let push = s.push(&["main"]);
    assert_rejected_for(&s, &push, GITHUB_RULE, case.secret_in);
    assert!(
        push.1.contains(&bad[..12]),
        "the commit is named: {}",
        push.1
    );
    assert_ne!(s.server_ref("main"), Some(bad), "the ref did not move");
}

fn found_by_dir(case: Case) {
    let tmp = tempfile::TempDir::new().unwrap();
    for (path, bytes) in &case.files {
        let file = tmp.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
    let out = tollgate()
        .args(["dir", "--no-config", "--no-progress", "--format", "json"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let findings = json_findings(&out.stdout);
    assert!(
        findings
            .iter()
            .any(|(rule, path)| rule == GITHUB_RULE && path.ends_with(case.secret_in)),
        "{findings:?} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1));
}

fn found_by_history_audit(case: Case) {
    let repo = Repo::new(&[]);
    for (path, bytes) in &case.files {
        repo.write_bytes(path, bytes);
    }
    repo.commit(&[], "evasion attempt");
    let out = tollgate()
        .args(["git", "--no-config", "--no-progress", "--format", "json"])
        .arg(&repo.path)
        .output()
        .unwrap();
    let findings = json_findings(&out.stdout);
    assert!(
        findings
            .iter()
            .any(|(rule, path)| rule == GITHUB_RULE && path == case.secret_in),
        "{findings:?} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1));
}

/// For each case, three tests: `push::<case>`, `dir::<case>` and `history::<case>`.
macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        mod push {
            $(#[test] fn $case() { super::pushed_and_rejected(super::$case()) })*
        }
        mod dir {
            $(#[test] fn $case() { super::found_by_dir(super::$case()) })*
        }
        mod history {
            $(#[test] fn $case() { super::found_by_history_audit(super::$case()) })*
        }
    };
}

cases!(
    bom_ff_fe_then_ascii,
    bom_fe_ff_then_ascii,
    bom_utf8,
    bom_utf32_le_then_ascii,
    bom_utf32_be_then_ascii,
    utf16_le_file,
    utf16_be_file,
    utf16_le_odd_length,
    utf16_le_then_ascii,
    utf32_le_file,
    utf32_be_file,
    crlf_lines,
    lone_cr_lines,
    nul_past_the_binary_window,
    text_named_png,
    text_named_jar,
    gitattributes_binary_path,
    fake_lfs_pointer_header,
    base64_inside_base64,
    percent_encoded,
    kubernetes_secret_data,
    allow_marker_far_away_on_one_line,
);
