//! Credential files (issue 14 §2): each store in `fixtures/credfiles/<format>/` yields
//! exactly the findings listed here, and its negative twin (the same file with only
//! references) yields no credential-file finding. Binary stores are reported from a
//! directory, from history, from the index and at the pre-receive hook.

mod common;

use std::path::Path;

use common::{tollgate, Repo, Server};

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/credfiles")
}

/// (path under fixtures/credfiles, line, rule id) of every finding, sorted.
const EXPECTED: &[(&str, usize, &str)] = &[
    ("aws-credentials/.aws/credentials", 2, "aws.access-key-id"),
    (
        "aws-credentials/.aws/credentials",
        3,
        "credfile.aws-credentials",
    ),
    ("aws-credentials/.aws/credentials", 6, "aws.access-key-id"),
    (
        "aws-credentials/.aws/credentials",
        7,
        "credfile.aws-credentials",
    ),
    (
        "aws-credentials/.aws/credentials",
        8,
        "credfile.aws-credentials",
    ),
    ("boto/.boto", 2, "generic.key-value"),
    ("boto/.boto", 3, "credfile.boto"),
    ("composer-auth/auth.json", 5, "credfile.composer-auth"),
    ("composer-auth/auth.json", 9, "credfile.composer-auth"),
    ("composer-auth/auth.json", 12, "gitlab.pat"),
    (
        "dbeaver-credentials/.dbeaver/credentials-config.json",
        1,
        "credfile.dbeaver-credentials",
    ),
    ("dbeaver/.dbeaver/data-sources.json", 14, "credfile.dbeaver"),
    ("docker-config/.docker/config.json", 4, "docker.config-auth"),
    (
        "docker-config/.docker/config.json",
        7,
        "credfile.docker-config",
    ),
    (
        "docker-config/.docker/config.json",
        10,
        "docker.personal-access-token",
    ),
    ("dockercfg/.dockercfg", 1, "credfile.docker-config"),
    ("esmtprc/.esmtprc", 4, "credfile.esmtprc"),
    (
        "filezilla-recent/FileZilla/recentservers.xml",
        9,
        "credfile.filezilla",
    ),
    (
        "filezilla/FileZilla/sitemanager.xml",
        10,
        "credfile.filezilla",
    ),
    ("ftpconfig/.ftpconfig", 6, "credfile.ftpconfig"),
    ("gem-credentials/.gem/credentials", 2, "rubygems.api-key"),
    (
        "gem-credentials/.gem/credentials",
        3,
        "credfile.gem-credentials",
    ),
    (
        "git-credentials-xdg/.config/git/credentials",
        1,
        "credfile.git-credentials",
    ),
    (
        "git-credentials/.git-credentials",
        1,
        "credfile.git-credentials",
    ),
    (
        "git-credentials/.git-credentials",
        2,
        "credfile.git-credentials",
    ),
    (
        "git-credentials/.git-credentials",
        3,
        "credfile.git-credentials",
    ),
    ("htpasswd/.htpasswd", 1, "credfile.htpasswd"),
    ("htpasswd/.htpasswd", 2, "credfile.htpasswd"),
    ("htpasswd/.htpasswd", 3, "credfile.htpasswd"),
    ("hub/.config/hub", 3, "credfile.hub"),
    (
        "jenkins-credentials/credentials.xml",
        13,
        "credfile.jenkins-credentials",
    ),
    (
        "jenkins-credentials/credentials.xml",
        18,
        "credfile.jenkins-credentials",
    ),
    (
        "jenkins-master-key/secrets/master.key",
        1,
        "credfile.jenkins-master-key",
    ),
    (
        "jetbrains-datasources/.idea/dataSources.xml",
        9,
        "credfile.jetbrains-datasources",
    ),
    (
        "jetbrains-webservers/.idea/WebServers.xml",
        6,
        "credfile.jetbrains-webservers",
    ),
    (
        "maven-settings/.m2/settings.xml",
        7,
        "credfile.maven-settings",
    ),
    (
        "maven-settings/.m2/settings.xml",
        12,
        "credfile.maven-settings",
    ),
    ("msmtprc/.msmtprc", 11, "credfile.msmtprc"),
    ("muttrc/.muttrc", 4, "credfile.muttrc"),
    ("muttrc/.muttrc", 6, "credfile.muttrc"),
    ("netrc/.netrc", 3, "credfile.netrc"),
    ("netrc/.netrc", 7, "credfile.heroku-netrc"),
    ("netrc/.netrc", 10, "credfile.heroku-netrc"),
    ("npmrc/.npmrc", 2, "credfile.npmrc"),
    ("npmrc/.npmrc", 4, "npm.npmrc-password"),
    ("nuget-config/NuGet.Config", 10, "nuget.cleartext-password"),
    ("nuget-config/NuGet.Config", 14, "credfile.nuget-config"),
    ("pgpass/.pgpass", 2, "credfile.pgpass"),
    ("pgpass/.pgpass", 3, "credfile.pgpass"),
    ("pkcs12/certs/client.p12", 1, "credfile.pkcs12"),
    ("private-key-pem/tls/client.key", 1, "privatekey.pkcs8"),
    ("private-key/.ssh/id_ed25519", 1, "privatekey.openssh"),
    ("putty-ppk/deploy.ppk", 1, "privatekey.putty"),
    ("putty-ppk/negative/deploy.ppk", 1, "privatekey.putty"),
    ("pypirc/.pypirc", 8, "pypi.upload-token"),
    ("pypirc/.pypirc", 13, "credfile.pypirc"),
    (
        "rails-credentials-key/config/credentials/production.key",
        1,
        "credfile.rails-master-key",
    ),
    (
        "rails-master-key/config/master.key",
        1,
        "credfile.rails-master-key",
    ),
    ("remote-sync/.remote-sync.json", 6, "credfile.remote-sync"),
    (
        "robomongo/.3T/robo-3t/1.4.4/robo3t.json",
        14,
        "credfile.robomongo",
    ),
    ("s3cfg/.s3cfg", 2, "aws.access-key-id"),
    ("s3cfg/.s3cfg", 7, "credfile.s3cfg"),
    ("s3cfg/.s3cfg", 8, "credfile.s3cfg"),
    ("shadow/etc/shadow", 1, "credfile.shadow"),
    ("shadow/etc/shadow", 5, "credfile.shadow"),
    ("sublime-sftp/sftp-config.json", 8, "credfile.sublime-sftp"),
    (
        "terraform-state/infra/terraform.tfstate",
        20,
        "credfile.terraform-state",
    ),
    (
        "terraform-state/infra/terraform.tfstate",
        37,
        "credfile.terraform-state",
    ),
    ("tugboat/.tugboat", 3, "credfile.tugboat"),
    ("vscode-sftp/.vscode/sftp.json", 7, "credfile.vscode-sftp"),
    ("winscp/WinSCP.ini", 7, "credfile.winscp"),
    ("wp-config/wp-config.php", 9, "credfile.wp-config"),
    ("wp-config/wp-config.php", 13, "credfile.wp-config"),
    ("wp-config/wp-config.php", 14, "credfile.wp-config"),
    ("yarnrc/.yarnrc.yml", 6, "npm.yarnrc-auth"),
    ("yarnrc/.yarnrc.yml", 9, "credfile.yarnrc"),
];

fn findings(args: &[&str], dir: &Path) -> Vec<serde_json::Value> {
    let out = tollgate().args(args).current_dir(dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}{}", String::from_utf8_lossy(&out.stderr)));
    report["findings"].as_array().unwrap().clone()
}

fn fixture_findings(extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["dir", ".", "--no-config", "--format", "json"];
    args.extend_from_slice(extra);
    findings(&args, &fixtures())
}

#[test]
fn every_store_yields_exactly_its_findings() {
    let got: Vec<(String, usize, String)> = fixture_findings(&[])
        .iter()
        .map(|f| {
            (
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("./")
                    .to_string(),
                f["line"].as_u64().unwrap() as usize,
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, usize, String)> = EXPECTED
        .iter()
        .map(|(p, l, r)| (p.to_string(), *l, r.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn every_format_has_a_fixture_and_a_negative_twin() {
    let mut formats = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(dir.join("negative").is_dir(), "{name} has no negative twin");
        let prefix = format!("{name}/");
        // A valid key is reported by the rule that knows its format (one finding per
        // secret); `--only-rule` shows the store's check sees it too.
        let by_key_rule = ["private-key", "private-key-pem", "putty-ppk"].contains(&name.as_str());
        assert!(
            EXPECTED.iter().any(|(p, _, r)| p.starts_with(&prefix)
                && (r.starts_with("credfile.") || by_key_rule && r.starts_with("privatekey."))),
            "{name} yields no credential-file finding"
        );
        formats += 1;
    }
    assert!(formats >= 40, "{formats}");
}

#[test]
fn negatives_yield_no_credential_file_finding() {
    let negatives: Vec<_> = EXPECTED
        .iter()
        .filter(|(p, _, _)| p.contains("/negative/"))
        .collect();
    // An encrypted PuTTY key is still reported by the text rule that knows the format;
    // no store reports a reference.
    assert_eq!(
        negatives,
        [&("putty-ppk/negative/deploy.ppk", 1, "privatekey.putty")]
    );
}

#[test]
fn every_credential_file_finding_is_high_confidence_and_redacted() {
    for f in fixture_findings(&[]) {
        if f["rule_id"].as_str().unwrap().starts_with("credfile.") {
            assert_eq!(f["confidence"], "high", "{f}");
            assert!(f["secret"].as_str().unwrap().ends_with('…'), "{f}");
        }
    }
}

#[test]
fn decoded_secrets_are_the_passwords() {
    let all = fixture_findings(&["--no-redact"]);
    let secret_of = |path: &str, line: u64| {
        all.iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(path) && f["line"] == line)
            .map(|f| f["secret"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(
        secret_of("filezilla/FileZilla/sitemanager.xml", 10),
        "S3rv3r!pass"
    );
    assert_eq!(
        secret_of("git-credentials/.git-credentials", 2),
        "p@ss#w0rd:1"
    );
    assert_eq!(
        secret_of("git-credentials/.git-credentials", 3),
        "raw@pass#1:x"
    );
    assert_eq!(secret_of("pgpass/.pgpass", 2), "password");
    assert_eq!(secret_of("pgpass/.pgpass", 3), "Wint3r:is:coming");
    // A binary store shows a digest, never its bytes.
    let p12 = secret_of("pkcs12/certs/client.p12", 1);
    assert_eq!(p12.len(), 64);
    assert!(p12.bytes().all(|b| b.is_ascii_hexdigit()), "{p12}");
}

#[test]
fn key_files_are_seen_by_their_checks_too() {
    let only = fixture_findings(&[
        "--only-rule",
        "credfile.private-key",
        "--only-rule",
        "credfile.putty-ppk",
    ]);
    let got: Vec<(&str, &str)> = only
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["rule_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("./private-key-pem/tls/client.key", "credfile.private-key"),
            ("./private-key/.ssh/id_ed25519", "credfile.private-key"),
            ("./putty-ppk/deploy.ppk", "credfile.putty-ppk"),
        ]
    );
}

#[test]
fn a_provider_rule_keeps_its_secret_and_nothing_is_reported_twice() {
    let all = fixture_findings(&[]);
    let mut spots: Vec<(String, u64, u64)> = all
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect();
    let n = spots.len();
    spots.sort();
    spots.dedup();
    assert_eq!(spots.len(), n, "two findings at one place");
    // The npm token's own rule names it; the store's check takes the password.
    let npmrc: Vec<&str> = all
        .iter()
        .filter(|f| f["path"] == "./npmrc/.npmrc")
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(npmrc, ["credfile.npmrc", "npm.npmrc-password"]);
}

#[test]
fn a_check_can_be_disabled_and_is_listed() {
    let all = fixture_findings(&["--disable-rule", "credfile.pgpass"]);
    assert!(all.iter().all(|f| f["rule_id"] != "credfile.pgpass"));
    assert!(all.iter().any(|f| f["rule_id"] == "credfile.netrc"));
    let only = fixture_findings(&["--only-rule", "credfile.pkcs12"]);
    assert_eq!(only.len(), 1, "{only:?}");
    let out = tollgate().args(["rules", "list"]).output().unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(list.contains("credfile.pgpass"), "{list}");
    assert!(list.contains("https://www.postgresql.org/docs/current/libpq-pgpass.html"));
}

#[test]
fn the_same_file_elsewhere_is_not_a_store() {
    let repo = Repo::new(&[]);
    repo.write("docs/pgpass-example.txt", "db:5432:*:app:password\n");
    repo.write("notes/credentials", "https://alice:hunter2@bitbucket.org\n");
    let found = findings(&["dir", ".", "--no-config", "--format", "json"], &repo.path);
    assert!(
        found
            .iter()
            .all(|f| !f["rule_id"].as_str().unwrap().starts_with("credfile.")),
        "{found:?}"
    );
}

fn pkcs12() -> Vec<u8> {
    std::fs::read(fixtures().join("pkcs12/certs/client.p12")).unwrap()
}

#[test]
fn a_pkcs12_file_in_history_is_reported_not_skipped() {
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# app\n")], "start");
    let p = repo.path.join("deploy/client.p12");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, pkcs12()).unwrap();
    let added = repo.commit(&[], "add the client certificate");
    std::fs::remove_file(&p).unwrap();
    repo.commit(&[], "remove it");
    let found = findings(&["git", ".", "--no-config", "--format", "json"], &repo.path);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["rule_id"], "credfile.pkcs12");
    assert_eq!(found[0]["path"], "deploy/client.p12");
    assert_eq!(found[0]["git"]["commit"], added.as_str());
}

#[test]
fn a_staged_pkcs12_file_is_reported() {
    let repo = Repo::new(&[]);
    repo.commit(&[("README.md", "# app\n")], "start");
    std::fs::write(repo.path.join("client.pfx"), pkcs12()).unwrap();
    repo.git(&["add", "client.pfx"]);
    let found = findings(&["staged", "--no-config", "--format", "json"], &repo.path);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["rule_id"], "credfile.pkcs12");
}

#[test]
fn a_push_adding_a_pgpass_is_rejected() {
    let s = Server::new(&[]);
    s.client.commit(&[("README.md", "# app\n")], "start");
    assert!(s.push(&["main"]).0);
    let before = s.server_ref("main");
    s.client.commit(
        &[(".pgpass", "db.internal:5432:*:app:password\n")],
        "db access",
    );
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("credfile.pgpass"), "{out}");
    assert!(out.contains(".pgpass:1"), "{out}");
    assert!(!out.contains(":password"), "the password is masked: {out}");
    assert_eq!(s.server_ref("main"), before);
}

#[test]
fn a_push_adding_a_pkcs12_file_is_rejected() {
    let s = Server::new(&[]);
    s.client.commit(&[("README.md", "# app\n")], "start");
    assert!(s.push(&["main"]).0);
    std::fs::write(s.client.path.join("client.p12"), pkcs12()).unwrap();
    s.client.commit(&[], "certificate");
    let (ok, out) = s.push(&["main"]);
    assert!(!ok, "{out}");
    assert!(out.contains("credfile.pkcs12"), "{out}");
}

#[test]
fn a_push_of_a_pgpass_with_only_references_is_accepted() {
    let s = Server::new(&[]);
    s.client.commit(
        &[(
            ".pgpass",
            "db.internal:5432:*:app:${PGPASSWORD}\nlocalhost:*:*:ci:\n",
        )],
        "db access",
    );
    let (ok, out) = s.push(&["main"]);
    assert!(ok, "{out}");
}
