//! The catalogue: which paths are which store, what each check is called, and which
//! format family reads it. Names are matched the way the tool that writes the file
//! spells them: exactly for Unix dotfiles, without regard to case for Windows tools.

use super::{binary, json, keyvalue, lines, markup, Check, CredHit};

macro_rules! stores {
    ($($variant:ident = $id:literal, $name:literal, $reference:literal, $desc:literal;)*) => {
        /// A recognised credential store.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Store { $($variant),* }

        pub const CHECKS: &[Check] = &[$(Check {
            id: $id,
            name: $name,
            description: $desc,
            reference: $reference,
        }),*];

        impl Store {
            /// Index of the store's check in [`CHECKS`].
            pub fn check(self) -> usize {
                self as usize
            }
        }
    };
}

stores! {
    Pgpass = "credfile.pgpass", "PostgreSQL password file (.pgpass)",
        "https://www.postgresql.org/docs/current/libpq-pgpass.html",
        "A `.pgpass` line (hostname:port:database:username:password) with a literal password.";
    GitCredentials = "credfile.git-credentials", "Git credential store (.git-credentials)",
        "https://git-scm.com/docs/git-credential-store",
        "git's plain-text credential store: each line is a URL whose user info holds a password or token.";
    Netrc = "credfile.netrc", "netrc password (.netrc, _netrc)",
        "https://www.gnu.org/software/inetutils/manual/html_node/The-_002enetrc-file.html",
        "A `password` (or `account`) token of a netrc entry, read by curl, ftp, git and many more.";
    HerokuNetrc = "credfile.heroku-netrc", "Heroku API key in netrc",
        "https://devcenter.heroku.com/articles/authentication#api-token-storage",
        "The Heroku CLI stores its API key as the password of the api.heroku.com and git.heroku.com netrc entries.";
    SublimeSftp = "credfile.sublime-sftp", "Sublime SFTP password (sftp-config.json)",
        "https://codexns.io/products/sftp_for_sublime/settings",
        "Sublime SFTP's per-folder `sftp-config.json` with a `password`.";
    FtpConfig = "credfile.ftpconfig", "Atom remote-ftp password (.ftpconfig)",
        "https://github.com/icetee/remote-ftp#configuration",
        "Atom remote-ftp's `.ftpconfig` with a `pass`, `password` or `passphrase`.";
    RemoteSync = "credfile.remote-sync", "Atom remote-sync password (.remote-sync.json)",
        "https://github.com/yongkangchen/remote-sync#usage",
        "Atom remote-sync's `.remote-sync.json` with a `password` or `passphrase`.";
    VscodeSftp = "credfile.vscode-sftp", "VS Code SFTP password (.vscode/sftp.json)",
        "https://github.com/Natizyskunk/vscode-sftp/wiki/Settings",
        "The VS Code SFTP extension's `sftp.json` with a `password` or `passphrase`.";
    FileZilla = "credfile.filezilla", "FileZilla saved password",
        "https://wiki.filezilla-project.org/Server_list_and_site_manager",
        "FileZilla's `sitemanager.xml`, `recentservers.xml` or `filezilla.xml` with a `<Pass>` (base64 is decoded).";
    WinScp = "credfile.winscp", "WinSCP saved password (WinSCP.ini)",
        "https://winscp.net/eng/docs/ui_pref_storage",
        "A WinSCP session's `Password` in `WinSCP.ini`: obfuscated, not encrypted, and reversible by anyone.";
    JetbrainsWebServers = "credfile.jetbrains-webservers", "JetBrains deployment password (WebServers.xml)",
        "https://www.jetbrains.com/help/idea/deployment-connection-tab.html",
        "A `password` attribute of a deployment server in an IDE's `.idea/WebServers.xml` (scrambled, reversible).";
    JetbrainsDataSources = "credfile.jetbrains-datasources", "JetBrains database password (dataSources.xml)",
        "https://www.jetbrains.com/help/idea/configuring-database-connections.html",
        "A data source's stored password in `.idea/dataSources.xml` or `dataSources.local.xml`.";
    Dbeaver = "credfile.dbeaver", "DBeaver connection password (data-sources.json)",
        "https://dbeaver.com/docs/dbeaver/Admin-Manage-Connections/",
        "A connection password saved in plain text in DBeaver's `data-sources*.json`.";
    DbeaverCredentials = "credfile.dbeaver-credentials", "DBeaver credential store (credentials-config.json)",
        "https://dbeaver.com/docs/dbeaver/Admin-Manage-Connections/",
        "DBeaver's `credentials-config.json`: every saved user and password, encrypted with a key that ships with DBeaver.";
    Robomongo = "credfile.robomongo", "Robo 3T connection password (robomongo.json)",
        "https://github.com/Studio3T/robomongo/wiki",
        "A `userPassword` or SSH password saved in Robo 3T's `robomongo.json` / `robo3t.json`.";
    Esmtprc = "credfile.esmtprc", "esmtp password (.esmtprc)",
        "https://manpages.debian.org/esmtprc",
        "The SMTP `password` of an esmtp identity.";
    Msmtprc = "credfile.msmtprc", "msmtp password (.msmtprc)",
        "https://marlam.de/msmtp/msmtp.html#Authentication",
        "The SMTP `password` of an msmtp account.";
    Muttrc = "credfile.muttrc", "Mutt mail password (.muttrc)",
        "https://www.mutt.org/doc/manual/#smtp-pass",
        "`set smtp_pass`, `imap_pass` or `pop_pass` in a mutt configuration.";
    Hub = "credfile.hub", "hub GitHub token (~/.config/hub)",
        "https://hub.github.com/hub.1.html#configuration",
        "The `oauth_token` that the hub CLI stores for github.com.";
    Tugboat = "credfile.tugboat", "Tugboat DigitalOcean key (.tugboat)",
        "https://github.com/petems/tugboat#configure",
        "The DigitalOcean `access_token` (or legacy client and API keys) in `.tugboat`.";
    S3cfg = "credfile.s3cfg", "s3cmd secret key (.s3cfg)",
        "https://s3tools.org/kb/item14.htm",
        "The `secret_key`, `access_token` or `gpg_passphrase` in s3cmd's `.s3cfg`.";
    Boto = "credfile.boto", "boto / gsutil secret (.boto)",
        "https://cloud.google.com/storage/docs/boto-gsutil",
        "An AWS or Google Cloud Storage secret key or refresh token in `.boto`.";
    AwsCredentials = "credfile.aws-credentials", "AWS CLI credentials file (.aws/credentials)",
        "https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-files.html",
        "`aws_secret_access_key` or `aws_session_token` in `.aws/credentials` or `.aws/config`.";
    Pypirc = "credfile.pypirc", "PyPI upload password (.pypirc)",
        "https://packaging.python.org/en/latest/specifications/pypirc/",
        "A repository `password` (often an API token) in `.pypirc`.";
    GemCredentials = "credfile.gem-credentials", "RubyGems API key (.gem/credentials)",
        "https://guides.rubygems.org/command-reference/#gem-push",
        "An API key in `~/.gem/credentials`, where `gem push` reads it.";
    MavenSettings = "credfile.maven-settings", "Maven server password (settings.xml)",
        "https://maven.apache.org/settings.html#servers",
        "A server `<password>` or `<passphrase>` in Maven's `settings.xml` (encrypted ones too: the master password sits next to it).";
    NugetConfig = "credfile.nuget-config", "NuGet feed password (nuget.config)",
        "https://learn.microsoft.com/en-us/nuget/reference/nuget-config-file#packagesourcecredentials",
        "A `ClearTextPassword` or `Password` of a package source in `nuget.config`.";
    ComposerAuth = "credfile.composer-auth", "Composer auth.json credential",
        "https://getcomposer.org/doc/articles/authentication-for-private-packages.md",
        "A token or password in Composer's `auth.json` (github-oauth, gitlab-token, bearer, http-basic, ...).";
    DockerConfig = "credfile.docker-config", "Docker registry credential (.docker/config.json, .dockercfg)",
        "https://docs.docker.com/reference/cli/docker/login/#credential-stores",
        "A registry `auth` (base64 user:password), password or identity token in a Docker client config.";
    Npmrc = "credfile.npmrc", "npm registry credential (.npmrc)",
        "https://docs.npmjs.com/cli/v10/configuring-npm/npmrc#auth-related-configuration",
        "An `_authToken`, `_auth` or `_password` in an `.npmrc`.";
    Yarnrc = "credfile.yarnrc", "Yarn registry credential (.yarnrc.yml)",
        "https://yarnpkg.com/configuration/yarnrc#npmAuthToken",
        "An `npmAuthToken` or `npmAuthIdent` in Yarn's `.yarnrc.yml`.";
    PuttyKey = "credfile.putty-ppk", "Unencrypted PuTTY private key (.ppk)",
        "https://the.earth.li/~sgtatham/putty/0.83/htmldoc/AppendixC.html",
        "A PuTTY key file with `Encryption: none`: the private key is readable as it is.";
    RailsMasterKey = "credfile.rails-master-key", "Rails master key (config/master.key)",
        "https://guides.rubyonrails.org/security.html#custom-credentials",
        "`config/master.key` or `config/credentials/*.key`: it decrypts the application's encrypted credentials.";
    JenkinsCredentials = "credfile.jenkins-credentials", "Jenkins stored credential (credentials.xml)",
        "https://www.jenkins.io/doc/book/using/using-credentials/",
        "A password, secret or private key in Jenkins' `credentials.xml`; with `secrets/master.key` anyone can decrypt it.";
    JenkinsMasterKey = "credfile.jenkins-master-key", "Jenkins master key (secrets/master.key)",
        "https://www.jenkins.io/doc/book/security/controller-isolation/",
        "Jenkins' `secrets/master.key`, which decrypts every credential the controller stores.";
    TerraformState = "credfile.terraform-state", "Secret in Terraform state (terraform.tfstate)",
        "https://developer.hashicorp.com/terraform/language/state/sensitive-data",
        "A password, secret, token or private key attribute in `terraform.tfstate` (or its `.backup`): state holds them in plain text.";
    Htpasswd = "credfile.htpasswd", "Password hash in .htpasswd",
        "https://httpd.apache.org/docs/current/programs/htpasswd.html",
        "A user's password hash in an Apache `.htpasswd`: crackable offline, and plain text with `-p`.";
    Shadow = "credfile.shadow", "Password hash in a shadow file",
        "https://man7.org/linux/man-pages/man5/shadow.5.html",
        "A user's password hash in `/etc/shadow` (locked and disabled entries are left out).";
    WpConfig = "credfile.wp-config", "WordPress database password or key (wp-config.php)",
        "https://developer.wordpress.org/apis/wp-config-php/",
        "`DB_PASSWORD` or an authentication key or salt defined in `wp-config.php`.";
    Pkcs12 = "credfile.pkcs12", "PKCS#12 key store (.p12, .pfx)",
        "https://datatracker.ietf.org/doc/html/rfc7292",
        "A PKCS#12 file holds a private key with its certificate; its password is often empty or weak.";
    PrivateKey = "credfile.private-key", "Unencrypted private key file",
        "https://datatracker.ietf.org/doc/html/rfc7468",
        "A key file (id_rsa, *.pem, *.key, ...) whose content is an unencrypted PEM or OpenSSH private key.";
}

/// The store a path names, if any: a cheap look at its last components.
pub fn recognise(path: &str) -> Option<Store> {
    let mut parts = path.rsplit(['/', '\\']);
    let name = parts.next().unwrap_or(path);
    let parent = parts.next().unwrap_or("");
    let grandparent = parts.next().unwrap_or("");
    let lower = name.to_ascii_lowercase();
    let store = match name {
        ".pgpass" | "pgpass.conf" => Store::Pgpass,
        ".git-credentials" => Store::GitCredentials,
        "credentials" if parent == "git" => Store::GitCredentials,
        ".netrc" | "_netrc" => Store::Netrc,
        "sftp-config.json" => Store::SublimeSftp,
        ".ftpconfig" => Store::FtpConfig,
        ".remote-sync.json" => Store::RemoteSync,
        "sftp.json" if parent == ".vscode" => Store::VscodeSftp,
        "WebServers.xml" => Store::JetbrainsWebServers,
        "dataSources.xml" | "dataSources.local.xml" => Store::JetbrainsDataSources,
        "credentials-config.json" => Store::DbeaverCredentials,
        "robomongo.json" | "robo3t.json" => Store::Robomongo,
        ".esmtprc" => Store::Esmtprc,
        ".msmtprc" | "msmtprc" => Store::Msmtprc,
        ".muttrc" | "muttrc" => Store::Muttrc,
        "hub" if parent == ".config" => Store::Hub,
        ".tugboat" => Store::Tugboat,
        ".s3cfg" => Store::S3cfg,
        ".boto" => Store::Boto,
        "credentials" | "config" if parent == ".aws" => Store::AwsCredentials,
        ".pypirc" => Store::Pypirc,
        "credentials" if parent == ".gem" => Store::GemCredentials,
        "settings.xml" | "settings-security.xml" => Store::MavenSettings,
        "auth.json" => Store::ComposerAuth,
        "config.json" if parent == ".docker" => Store::DockerConfig,
        ".dockercfg" => Store::DockerConfig,
        ".npmrc" | "npmrc" => Store::Npmrc,
        ".yarnrc.yml" => Store::Yarnrc,
        "master.key" if parent == "config" => Store::RailsMasterKey,
        "master.key" if parent == "secrets" => Store::JenkinsMasterKey,
        _ if parent == "credentials" && grandparent == "config" && name.ends_with(".key") => {
            Store::RailsMasterKey
        }
        "credentials.xml" => Store::JenkinsCredentials,
        "terraform.tfstate" | "terraform.tfstate.backup" => Store::TerraformState,
        ".htpasswd" | "htpasswd" => Store::Htpasswd,
        "shadow" | "shadow-" => Store::Shadow,
        "wp-config.php" => Store::WpConfig,
        _ => match lower.as_str() {
            "sitemanager.xml" | "recentservers.xml" | "filezilla.xml" => Store::FileZilla,
            "winscp.ini" => Store::WinScp,
            "nuget.config" => Store::NugetConfig,
            _ if lower.starts_with("data-sources") && lower.ends_with(".json") => Store::Dbeaver,
            _ if lower.ends_with(".ppk") => Store::PuttyKey,
            _ if lower.ends_with(".p12") || lower.ends_with(".pfx") => Store::Pkcs12,
            _ if lower.ends_with(".tfstate") || lower.ends_with(".tfstate.backup") => {
                Store::TerraformState
            }
            _ if is_key_file_name(&lower) => Store::PrivateKey,
            _ => return None,
        },
    };
    Some(store)
}

/// Names that key files go by: ssh's defaults and the usual PEM extensions.
fn is_key_file_name(lower: &str) -> bool {
    matches!(
        lower,
        "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519" | "id_ecdsa_sk" | "id_ed25519_sk"
    ) || [".pem", ".key", ".priv"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// The literal credentials of `data`, read as `store`.
pub(super) fn parse(store: Store, data: &[u8]) -> Vec<CredHit> {
    let c = store.check();
    match store {
        Store::Pgpass => lines::pgpass(c, data),
        Store::GitCredentials => lines::git_credentials(c, data),
        Store::Netrc => lines::netrc(c, Store::HerokuNetrc.check(), data),
        Store::HerokuNetrc => Vec::new(),
        Store::Htpasswd => lines::colon_field(c, data, 1, false),
        Store::Shadow => lines::colon_field(c, data, 1, true),
        Store::RailsMasterKey => lines::hex_key(c, data, 32, 32),
        Store::JenkinsMasterKey => lines::hex_key(c, data, 32, 1024),
        Store::SublimeSftp => json::keyed(c, data, &["password"]),
        Store::FtpConfig => json::keyed(c, data, &["pass", "password", "passphrase"]),
        Store::RemoteSync | Store::VscodeSftp => json::keyed(c, data, &["password", "passphrase"]),
        Store::Dbeaver => json::keyed(c, data, &["password", "auth.password", "ssh.password"]),
        Store::Robomongo => json::keyed(
            c,
            data,
            &[
                "userpassword",
                "sshuserpassword",
                "sshpassword",
                "sshpassphrase",
            ],
        ),
        Store::DockerConfig => json::keyed(
            c,
            data,
            &["auth", "password", "identitytoken", "registrytoken"],
        ),
        Store::ComposerAuth => json::composer(c, data),
        Store::TerraformState => json::terraform(c, data),
        Store::FileZilla => markup::filezilla(c, data),
        Store::JetbrainsWebServers => markup::attributes(c, data, &["password"]),
        Store::JetbrainsDataSources => markup::datasources(c, data),
        Store::MavenSettings => markup::elements(c, data, &["password", "passphrase", "master"]),
        Store::NugetConfig => markup::nuget(c, data),
        Store::JenkinsCredentials => markup::elements(
            c,
            data,
            &[
                "password",
                "secret",
                "privateKey",
                "passphrase",
                "apiToken",
                "secretBytes",
                "token",
            ],
        ),
        Store::WinScp => keyvalue::ini(c, data, &["password", "proxypassword", "tunnelpassword"]),
        Store::S3cfg => keyvalue::ini(c, data, &["secret_key", "access_token", "gpg_passphrase"]),
        Store::Boto => keyvalue::ini(
            c,
            data,
            &[
                "aws_secret_access_key",
                "gs_secret_access_key",
                "gs_oauth2_refresh_token",
                "proxy_pass",
            ],
        ),
        Store::AwsCredentials => keyvalue::ini(
            c,
            data,
            &[
                "aws_secret_access_key",
                "aws_session_token",
                "aws_security_token",
            ],
        ),
        Store::Pypirc => keyvalue::ini(c, data, &["password"]),
        Store::Esmtprc | Store::Msmtprc => keyvalue::ini(c, data, &["password"]),
        Store::Muttrc => keyvalue::ini(c, data, &["smtp_pass", "imap_pass", "pop_pass"]),
        Store::Hub => keyvalue::ini(c, data, &["oauth_token"]),
        Store::Tugboat => keyvalue::ini(c, data, &["access_token", "client_key", "api_key"]),
        Store::GemCredentials => keyvalue::gem_credentials(c, data),
        Store::Npmrc => keyvalue::npmrc(c, data),
        Store::Yarnrc => keyvalue::ini(c, data, &["npmauthtoken", "npmauthident", "npmpassword"]),
        Store::PuttyKey => keyvalue::ppk(c, data),
        Store::WpConfig => keyvalue::wp_config(c, data),
        Store::PrivateKey => binary::pem_private_key(c, data),
        // Whole-file stores, text or binary, are judged by `binary_store`.
        Store::Pkcs12 | Store::DbeaverCredentials => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reader, on every prefix of input that mixes all the formats' syntax, with
    /// escapes and quotes left open: nothing panics, and every span is inside the data.
    #[test]
    fn no_reader_panics_on_truncated_or_odd_input() {
        let sample: &[u8] = b"h:5432:*:u:p\\:w\\\nhttps://a:b@c@d\nmachine m login l password \"q\nmacdef x\n\n{\"password\": \"v\\\", /* \"k\": [\"a\"] } ]\n<Pass encoding=\"base64\">aGk=</Pass><add key='Password' value='x'/><a b=\"c\npassword = x\n:k: v\ndefine( 'DB_PASSWORD', 'p\\'\nPuTTY-User-Key-File-3: x\nEncryption: none\nPrivate-Lines: 9\nAAAA\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n\xff\x00\x30\x82";
        let stores: Vec<Store> = STORE_PATHS.iter().filter_map(|p| recognise(p)).collect();
        // Every check has a path here but Heroku's, which is read from netrc entries.
        assert_eq!(stores.len(), CHECKS.len() - 1);
        for store in stores {
            for end in 0..=sample.len() {
                let data = &sample[..end];
                for hit in parse(store, data) {
                    assert!(hit.span.start <= hit.span.end && hit.span.end <= data.len());
                }
            }
        }
    }

    const STORE_PATHS: &[&str] = &[
        ".pgpass",
        ".git-credentials",
        ".netrc",
        "x/sftp-config.json",
        ".ftpconfig",
        ".remote-sync.json",
        ".vscode/sftp.json",
        "sitemanager.xml",
        "WinSCP.ini",
        ".idea/WebServers.xml",
        ".idea/dataSources.xml",
        "data-sources.json",
        "credentials-config.json",
        "robo3t.json",
        ".esmtprc",
        ".msmtprc",
        ".muttrc",
        ".config/hub",
        ".tugboat",
        ".s3cfg",
        ".boto",
        ".aws/credentials",
        ".pypirc",
        ".gem/credentials",
        "settings.xml",
        "nuget.config",
        "auth.json",
        ".docker/config.json",
        ".npmrc",
        ".yarnrc.yml",
        "k.ppk",
        "config/master.key",
        "credentials.xml",
        "secrets/master.key",
        "terraform.tfstate",
        ".htpasswd",
        "etc/shadow",
        "wp-config.php",
        "a.p12",
        "id_rsa",
    ];

    #[test]
    fn paths_are_recognised_as_their_tools_write_them() {
        assert_eq!(recognise("home/u/.pgpass"), Some(Store::Pgpass));
        assert_eq!(recognise("home/u/.PGPASS"), None);
        assert_eq!(
            recognise("C:\\Users\\u\\AppData\\FileZilla\\SiteManager.xml"),
            Some(Store::FileZilla)
        );
        assert_eq!(recognise("src/NuGet.Config"), Some(Store::NugetConfig));
        assert_eq!(
            recognise("home/u/.config/git/credentials"),
            Some(Store::GitCredentials)
        );
        assert_eq!(recognise("credentials"), None);
        assert_eq!(
            recognise("app/config/credentials/production.key"),
            Some(Store::RailsMasterKey)
        );
        // Elsewhere a `.key` is a key file, judged by its content.
        assert_eq!(recognise("app/master.key"), Some(Store::PrivateKey));
        assert_eq!(
            recognise("jenkins/secrets/master.key"),
            Some(Store::JenkinsMasterKey)
        );
        assert_eq!(recognise("hub"), None);
        assert_eq!(recognise("src/main.rs"), None);
    }
}
