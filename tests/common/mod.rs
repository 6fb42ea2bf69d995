//! Helpers shared by the integration-test binaries that build real repositories.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

/// The fake, checksum-valid GitHub token planted in `fixtures/app/.env`.
pub fn github_token() -> String {
    let env =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/app/.env"))
            .unwrap();
    env.lines()
        .find_map(|l| l.strip_prefix("GITHUB_TOKEN="))
        .expect("fixture token")
        .to_string()
}

/// A second secret of another kind, so that tests can tell findings apart.
pub const STRIPE_KEY: &str = "sk_live_51Hq8ZkLmNpQrStUvWxYz0aBcD4eF";

pub fn tollgate() -> Command {
    let mut cmd = Command::cargo_bin("tollgate").expect("binary built");
    cmd.env_remove("CI").env("NO_COLOR", "1");
    cmd
}

/// Run git with a fixed identity and no user or system configuration; returns
/// (success, stdout, stderr).
pub fn git_output(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ada Author")
        .env("GIT_AUTHOR_EMAIL", "ada@example.org")
        .env("GIT_COMMITTER_NAME", "Ada Author")
        .env("GIT_COMMITTER_EMAIL", "ada@example.org")
        .output()
        .expect("git runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Run git and insist that it succeeds; returns stdout.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let (ok, stdout, stderr) = git_output(dir, args);
    assert!(ok, "git {args:?}: {stderr}");
    stdout
}

/// A work tree in a temporary directory.
pub struct Repo {
    _tmp: TempDir,
    pub path: PathBuf,
}

impl Repo {
    pub fn new(extra_init: &[&str]) -> Repo {
        let tmp = TempDir::new().unwrap();
        let path = tmp.path().join("repo");
        std::fs::create_dir(&path).unwrap();
        let mut args = vec!["init", "-q", "-b", "main"];
        args.extend_from_slice(extra_init);
        git_in(&path, &args);
        Repo { _tmp: tmp, path }
    }

    pub fn git(&self, args: &[&str]) -> String {
        git_in(&self.path, args)
    }

    pub fn write(&self, rel: &str, content: &str) {
        let p = self.path.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// Write the files, commit everything, return the commit id.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (rel, content) in files {
            self.write(rel, content);
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// A path next to the work tree, in the same temporary directory.
    pub fn sibling(&self, name: &str) -> PathBuf {
        self.path.parent().unwrap().join(name)
    }
}

/// `GITHUB_TOKEN=<the fixture token>` and a newline.
pub fn token_line() -> String {
    format!("GITHUB_TOKEN={}\n", github_token())
}

/// A bare server repository with the hook installed by `tollgate hook install`, and a
/// work tree pushing to it.
pub struct Server {
    pub client: Repo,
    pub bare: PathBuf,
}

impl Server {
    /// A server that fails closed: a push accepted because the scan failed or ran out of
    /// time must not pass a test, so errors and timeouts reject, with a budget no
    /// machine misses.
    pub fn new(init: &[&str]) -> Server {
        let server = Server::with_defaults(init);
        server.config("tollgate.onError", "reject");
        server.config("tollgate.onTimeout", "reject");
        server.config("tollgate.timeout", "120s");
        server
    }

    /// A server with every `tollgate.*` setting left at its default.
    pub fn with_defaults(init: &[&str]) -> Server {
        let client = Repo::new(init);
        let bare = client.sibling("server.git");
        let mut args = vec!["init", "-q", "--bare"];
        args.extend_from_slice(init);
        args.push(bare.to_str().unwrap());
        git_in(client.path.parent().unwrap(), &args);
        client.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
        let out = tollgate()
            .args(["hook", "install", "--bare"])
            .arg(&bare)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Server { client, bare }
    }

    pub fn config(&self, key: &str, value: &str) {
        git_in(&self.bare, &["config", key, value]);
    }

    pub fn unset_config(&self, key: &str) {
        git_output(&self.bare, &["config", "--unset", key]);
    }

    /// Push; returns (accepted, what the client printed).
    pub fn push(&self, args: &[&str]) -> (bool, String) {
        let mut all = vec!["push", "origin"];
        all.extend_from_slice(args);
        let (ok, stdout, stderr) = git_output(&self.client.path, &all);
        (ok, format!("{stdout}\n{stderr}"))
    }

    /// The object a ref points to on the server, if it exists.
    pub fn server_ref(&self, name: &str) -> Option<String> {
        let (ok, out, _) = git_output(&self.bare, &["rev-parse", "--verify", "-q", name]);
        ok.then_some(out)
    }

    pub fn audit_log(&self) -> String {
        std::fs::read_to_string(self.bare.join("tollgate-audit.jsonl")).unwrap_or_default()
    }

    /// Put history on the server without the hook (as if it predated tollgate).
    pub fn push_unchecked(&self, args: &[&str]) {
        let hook = self.bare.join("hooks/pre-receive");
        std::fs::rename(&hook, self.bare.join("hooks/off")).unwrap();
        let (ok, out) = self.push(args);
        std::fs::rename(self.bare.join("hooks/off"), &hook).unwrap();
        assert!(ok, "{out}");
    }
}

impl Repo {
    /// Write raw bytes (any encoding, NULs, lone CRs) to a file of the work tree.
    pub fn write_bytes(&self, rel: &str, content: &[u8]) {
        let p = self.path.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
}
