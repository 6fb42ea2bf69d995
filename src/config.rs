//! `.tollgate.yaml`: a repository's own settings, read from the scan root (or from
//! `--config FILE`). Every key is checked, and every error names the file and the line.
//!
//! ```yaml
//! rules: [.tollgate/rules]          # extra rule files or directories, relative to this file
//! disable-rules: [generic.password-assignment]
//! enable-rules: [k8s.env-secret-ref]
//! min-confidence: medium
//! max-file-size: 5M
//! allow-paths: ["tests/fixtures/", "*.snap"]
//! allow-secrets: ["^sk_test_"]      # regexes on the secret, for every rule
//! rule-settings:
//!   generic.password-assignment:
//!     allow: ["^dev-"]              # regexes on the secret, for this rule
//!     min-entropy: 3.5
//! baseline: .tollgate-baseline.json
//! ```
//!
//! The file is read with the manifest parser, so positions come for free; `Filters` is
//! the compiled form the scan uses.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::bytes::Regex;

use crate::finding::Confidence;
use crate::k8s::yaml::{self, Node};

/// The file looked for at the scan root.
pub const FILE_NAME: &str = ".tollgate.yaml";

/// Config files are small; a larger one is a mistake.
const MAX_CONFIG_SIZE: u64 = 1 << 20;

/// A problem in a config file, at a line (0 when the file could not be read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// A value and the line it was written on.
#[derive(Debug, Clone, PartialEq)]
pub struct At<T> {
    pub value: T,
    pub line: usize,
}

/// Settings for one rule.
#[derive(Debug, Clone, Default)]
pub struct RuleSettings {
    pub allow: Vec<Regex>,
    pub min_entropy: Option<f64>,
}

/// A parsed `.tollgate.yaml`.
#[derive(Debug, Clone, Default)]
pub struct RepoConfig {
    /// The file this came from.
    pub file: PathBuf,
    pub rules: Vec<PathBuf>,
    pub disable_rules: Vec<At<String>>,
    pub enable_rules: Vec<At<String>>,
    pub min_confidence: Option<Confidence>,
    pub max_file_size: Option<u64>,
    pub allow_paths: Vec<String>,
    pub allow_secrets: Vec<Regex>,
    pub rule_settings: Vec<(At<String>, RuleSettings)>,
    pub baseline: Option<PathBuf>,
}

const KEYS: &[&str] = &[
    "version",
    "rules",
    "disable-rules",
    "enable-rules",
    "min-confidence",
    "max-file-size",
    "allow-paths",
    "allow-secrets",
    "rule-settings",
    "baseline",
];

const RULE_KEYS: &[&str] = &["allow", "min-entropy"];

/// Reads one file, keeping the text for line numbers.
struct Reader<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Reader<'_> {
    fn line(&self, node: &Node) -> usize {
        let at = node.span().start.min(self.text.len());
        self.text.as_bytes()[..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn error(&self, node: &Node, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_path_buf(),
            line: self.line(node),
            message: message.into(),
        }
    }

    fn string(&self, node: &Node, key: &str) -> Result<At<String>, ConfigError> {
        match node {
            Node::Scalar(s) if !(s.plain && s.value.is_empty()) => Ok(At {
                value: s.value.clone(),
                line: self.line(node),
            }),
            _ => Err(self.error(node, format!("`{key}` takes a string"))),
        }
    }

    /// A list of strings; a single string is a list of one.
    fn strings(&self, node: &Node, key: &str) -> Result<Vec<At<String>>, ConfigError> {
        match node {
            Node::Seq(items, _) => items.iter().map(|n| self.string(n, key)).collect(),
            Node::Scalar(_) => Ok(vec![self.string(node, key)?]),
            _ => Err(self.error(node, format!("`{key}` takes a list of strings"))),
        }
    }

    fn regexes(&self, node: &Node, key: &str) -> Result<Vec<Regex>, ConfigError> {
        self.strings(node, key)?
            .into_iter()
            .map(|s| {
                let fail = |message: String| ConfigError {
                    file: self.file.to_path_buf(),
                    line: s.line,
                    message: format!("`{key}`: {message}"),
                };
                let regex = Regex::new(&s.value)
                    .map_err(|e| fail(format!("invalid regex `{}`: {e}", s.value)))?;
                if regex.is_match(b"") {
                    return Err(fail(format!(
                        "`{}` matches an empty string, so it would allow every secret",
                        s.value
                    )));
                }
                Ok(regex)
            })
            .collect()
    }

    /// Mapping entries with string keys, each key once and known.
    fn entries<'n>(
        &self,
        node: &'n Node,
        what: &str,
        known: Option<&[&str]>,
    ) -> Result<Vec<(&'n str, &'n Node)>, ConfigError> {
        let Node::Map(entries, _) = node else {
            return Err(self.error(node, format!("{what} must be a mapping of keys to values")));
        };
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for (k, v) in entries {
            let Some(key) = k.as_str() else {
                return Err(self.error(k, format!("{what}: keys must be strings")));
            };
            if let Some(known) = known {
                if !known.contains(&key) {
                    let hint = known
                        .iter()
                        .find(|c| c.replace('-', "_") == key.replace('-', "_"))
                        .map(|c| format!(" (did you mean `{c}`?)"))
                        .unwrap_or_default();
                    return Err(self.error(
                        k,
                        format!(
                            "unknown key `{key}` in {what}{hint}; known keys: {}",
                            known.join(", ")
                        ),
                    ));
                }
            }
            if seen.contains(&key) {
                return Err(self.error(k, format!("`{key}` is given twice in {what}")));
            }
            seen.push(key);
            out.push((key, v));
        }
        Ok(out)
    }

    /// A path relative to the config file's directory.
    fn path(&self, value: &At<String>) -> PathBuf {
        let p = Path::new(&value.value);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.file.parent().unwrap_or(Path::new(".")).join(p)
        }
    }
}

impl RepoConfig {
    /// Read and check a config file.
    pub fn load(file: &Path) -> Result<RepoConfig, ConfigError> {
        let fail = |message: String| ConfigError {
            file: file.to_path_buf(),
            line: 0,
            message,
        };
        let meta = std::fs::metadata(file).map_err(|e| fail(format!("cannot read: {e}")))?;
        if meta.len() > MAX_CONFIG_SIZE {
            return Err(fail(format!(
                "{} bytes is too large for a config file",
                meta.len()
            )));
        }
        let bytes = std::fs::read(file).map_err(|e| fail(format!("cannot read: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".into()))?;
        RepoConfig::parse(file, &text)
    }

    /// Parse config text; `file` names it in errors and anchors relative paths.
    pub fn parse(file: &Path, text: &str) -> Result<RepoConfig, ConfigError> {
        let reader = Reader { file, text };
        let docs = yaml::parse(text).map_err(|e| ConfigError {
            file: file.to_path_buf(),
            line: e.line,
            message: format!("not valid YAML: {}", e.message),
        })?;
        let mut config = RepoConfig {
            file: file.to_path_buf(),
            ..RepoConfig::default()
        };
        let root = match docs.as_slice() {
            [] => return Ok(config),
            [doc] => &doc.root,
            [_, second, ..] => {
                return Err(reader.error(&second.root, "one YAML document expected, found more"))
            }
        };
        if matches!(root, Node::Scalar(s) if s.plain && s.value.is_empty()) {
            return Ok(config);
        }
        for (key, value) in reader.entries(root, "the config", Some(KEYS))? {
            match key {
                "version" => {
                    if value.as_str() != Some("1") {
                        return Err(reader.error(value, "`version` must be 1"));
                    }
                }
                "rules" => {
                    for s in reader.strings(value, key)? {
                        let path = reader.path(&s);
                        if !path.exists() {
                            return Err(ConfigError {
                                file: file.to_path_buf(),
                                line: s.line,
                                message: format!("`rules`: {} does not exist", path.display()),
                            });
                        }
                        config.rules.push(path);
                    }
                }
                "disable-rules" => config.disable_rules = reader.strings(value, key)?,
                "enable-rules" => config.enable_rules = reader.strings(value, key)?,
                "min-confidence" => {
                    let s = reader.string(value, key)?;
                    config.min_confidence = Some(
                        s.value
                            .parse()
                            .map_err(|e: String| reader.error(value, format!("`{key}`: {e}")))?,
                    );
                }
                "max-file-size" => {
                    let s = reader.string(value, key)?;
                    config.max_file_size = Some(
                        crate::cli::parse_size(&s.value)
                            .map_err(|e| reader.error(value, format!("`{key}`: {e}")))?,
                    );
                }
                "allow-paths" => {
                    for s in reader.strings(value, key)? {
                        glob_patterns(&s.value).map_err(|e| ConfigError {
                            file: file.to_path_buf(),
                            line: s.line,
                            message: format!("`allow-paths`: {e}"),
                        })?;
                        config.allow_paths.push(s.value);
                    }
                }
                "allow-secrets" => config.allow_secrets = reader.regexes(value, key)?,
                "rule-settings" => {
                    for (id, settings) in reader.entries(value, "`rule-settings`", None)? {
                        let what = format!("`rule-settings.{id}`");
                        let mut parsed = RuleSettings::default();
                        for (k, v) in reader.entries(settings, &what, Some(RULE_KEYS))? {
                            match k {
                                "allow" => parsed.allow = reader.regexes(v, "allow")?,
                                _ => {
                                    let e = reader
                                        .string(v, k)?
                                        .value
                                        .parse::<f64>()
                                        .ok()
                                        .filter(|e| (0.0..=8.0).contains(e))
                                        .ok_or_else(|| {
                                            reader.error(
                                                v,
                                                format!("{what}: `min-entropy` takes a number from 0 to 8"),
                                            )
                                        })?;
                                    parsed.min_entropy = Some(e);
                                }
                            }
                        }
                        let line = value
                            .entries()
                            .iter()
                            .find(|(k, _)| k.as_str() == Some(id))
                            .map_or(0, |(k, _)| reader.line(k));
                        config.rule_settings.push((
                            At {
                                value: id.to_string(),
                                line,
                            },
                            parsed,
                        ));
                    }
                }
                "baseline" => config.baseline = Some(reader.path(&reader.string(value, key)?)),
                _ => unreachable!("KEYS lists every key handled here"),
            }
        }
        Ok(config)
    }

    /// Every rule id the file names must exist: a typo would silently disable nothing.
    pub fn check_rule_ids(&self, known: &dyn Fn(&str) -> bool) -> Result<(), ConfigError> {
        let named = self
            .disable_rules
            .iter()
            .map(|a| ("disable-rules", a))
            .chain(self.enable_rules.iter().map(|a| ("enable-rules", a)))
            .chain(self.rule_settings.iter().map(|(a, _)| ("rule-settings", a)));
        for (key, id) in named {
            if !known(&id.value) {
                return Err(ConfigError {
                    file: self.file.clone(),
                    line: id.line,
                    message: format!(
                        "`{key}`: no rule or check `{}` (see `tollgate rules list`)",
                        id.value
                    ),
                });
            }
        }
        Ok(())
    }

    /// The compiled filters a scan applies.
    pub fn filters(&self) -> Filters {
        let paths = (!self.allow_paths.is_empty()).then(|| {
            let mut set = GlobSetBuilder::new();
            for p in &self.allow_paths {
                for glob in glob_patterns(p).expect("checked when the file was read") {
                    set.add(glob);
                }
            }
            set.build().expect("every glob compiled on its own")
        });
        Filters {
            paths,
            allow_secrets: self.allow_secrets.clone(),
            rules: self
                .rule_settings
                .iter()
                .map(|(id, s)| (id.value.clone(), s.clone()))
                .collect(),
        }
    }
}

/// `allow-paths` globs, matched against paths relative to the scan root (the repository
/// root for history scans), like `.gitignore`: a pattern without `/` matches a name at
/// any depth; a leading `/` anchors it to the root; a pattern that names a directory
/// covers everything in it; `**` crosses directories, `*` does not.
fn glob_patterns(pattern: &str) -> Result<Vec<globset::Glob>, String> {
    let trimmed = pattern.trim();
    if trimmed.is_empty() {
        return Err("an empty pattern".into());
    }
    let body = trimmed.trim_end_matches('/');
    // `./docs` means `/docs`: relative to the scan root.
    let body = match body.strip_prefix("./") {
        Some(rest) => format!("/{rest}"),
        None => body.to_string(),
    };
    let body = body.as_str();
    let anchored = body.strip_prefix('/');
    let base = match anchored {
        Some(rest) => rest.to_string(),
        None if body.contains('/') => body.to_string(),
        None => format!("**/{body}"),
    };
    [base.clone(), format!("{base}/**")]
        .iter()
        .map(|p| {
            GlobBuilder::new(p)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("invalid glob `{pattern}`: {}", e.kind()))
        })
        .collect()
}

/// The part of a config that acts on each file and each finding.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    paths: Option<GlobSet>,
    allow_secrets: Vec<Regex>,
    rules: HashMap<String, RuleSettings>,
}

impl Filters {
    /// A file the config says not to scan.
    pub fn skips_path(&self, path: &str) -> bool {
        self.paths.as_ref().is_some_and(|set| set.is_match(path))
    }

    /// Whether `allow-paths` is set: callers skip building path strings otherwise.
    pub fn has_path_filters(&self) -> bool {
        self.paths.is_some()
    }

    /// A secret the config allows for this rule.
    pub fn allows_secret(&self, rule_id: &str, secret: &[u8]) -> bool {
        self.allow_secrets.iter().any(|r| r.is_match(secret))
            || self
                .rules
                .get(rule_id)
                .is_some_and(|s| s.allow.iter().any(|r| r.is_match(secret)))
    }

    /// Whether any secret filter is set: the scan skips the work otherwise.
    pub fn has_secret_filters(&self) -> bool {
        !self.allow_secrets.is_empty() || self.rules.values().any(|s| !s.allow.is_empty())
    }

    /// The config's entropy threshold for a rule, if it sets one.
    pub fn min_entropy(&self, rule_id: &str) -> Option<f64> {
        self.rules.get(rule_id).and_then(|s| s.min_entropy)
    }
}

/// The config for a scan: `explicit` (`--config FILE`) must exist; otherwise
/// `.tollgate.yaml` in `root` is read when present.
pub fn find(explicit: Option<&Path>, root: &Path) -> Result<Option<RepoConfig>, ConfigError> {
    match explicit {
        Some(file) => RepoConfig::load(file).map(Some),
        None => {
            let file = root.join(FILE_NAME);
            if file.is_file() {
                RepoConfig::load(&file).map(Some)
            } else {
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RepoConfig, ConfigError> {
        RepoConfig::parse(Path::new("/repo/.tollgate.yaml"), text)
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn a_full_config_reads() {
        let c = parse(
            "version: 1\ndisable-rules: [a.b]\nenable-rules: k8s.env-secret-ref\n\
             min-confidence: medium\nmax-file-size: 5M\nallow-paths: ['tests/', '*.snap']\n\
             allow-secrets: ['^sk_test_']\nrule-settings:\n  generic.x:\n    allow: ['^dev-']\n\
             \x20   min-entropy: 3.5\nbaseline: base.json\n",
        )
        .unwrap();
        assert_eq!(c.disable_rules[0].value, "a.b");
        assert_eq!(c.enable_rules[0].line, 3);
        assert_eq!(c.min_confidence, Some(Confidence::Medium));
        assert_eq!(c.max_file_size, Some(5 << 20));
        assert_eq!(c.baseline, Some(PathBuf::from("/repo/base.json")));
        let f = c.filters();
        assert!(f.skips_path("tests/a/b.env"));
        assert!(f.skips_path("ui/__snapshots__/x.snap"));
        assert!(!f.skips_path("src/tests.rs"));
        assert!(f.allows_secret("any.rule", b"sk_test_abc"));
        assert!(f.allows_secret("generic.x", b"dev-123"));
        assert!(!f.allows_secret("generic.y", b"dev-123"));
        assert_eq!(f.min_entropy("generic.x"), Some(3.5));
        assert!(f.has_secret_filters());
    }

    #[test]
    fn empty_files_are_empty_configs() {
        assert!(parse("").unwrap().rules.is_empty());
        assert!(parse("# nothing yet\n").unwrap().filters().paths.is_none());
    }

    #[test]
    fn errors_name_the_file_and_line() {
        assert_eq!(
            error("min-confidence: high\nallow_paths: [x]\n"),
            "/repo/.tollgate.yaml:2: unknown key `allow_paths` in the config (did you mean \
             `allow-paths`?); known keys: version, rules, disable-rules, enable-rules, \
             min-confidence, max-file-size, allow-paths, allow-secrets, rule-settings, baseline"
        );
        assert!(error("min-confidence: severe\n").starts_with("/repo/.tollgate.yaml:1: "));
        assert!(error("\n\nmax-file-size: lots\n").contains(":3: `max-file-size`"));
        assert!(error("allow-secrets:\n  - ok\n  - '(unclosed'\n").contains(":3: "));
        assert!(error("rule-settings:\n  a:\n    min-entropy: 9\n").contains(":3: "));
        assert!(error("rule-settings:\n  a:\n    allow-regex: [x]\n").contains(":3: unknown key"));
        assert!(error("version: 2\n").contains("`version` must be 1"));
        assert!(error("allow-secrets: ['x', '(?i)']\n").contains("matches an empty string"));
        assert!(error("a: [\n").contains("not valid YAML"));
        assert!(error("- a\n- b\n").contains("must be a mapping"));
        assert!(error("disable-rules: {a: b}\n").contains("list of strings"));
        assert!(error("min-confidence: low\nmin-confidence: high\n").contains(":2: "));
        assert!(error("rules: [no/such/dir]\n").contains("does not exist"));
        assert!(error("a: 1\n---\nb: 2\n").contains("one YAML document"));
    }

    #[test]
    fn unknown_rule_ids_are_errors_at_their_line() {
        let c = parse("disable-rules:\n  - known\n  - typo.rule\n").unwrap();
        let err = c.check_rule_ids(&|id| id == "known").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("typo.rule"));
        assert!(c.check_rule_ids(&|_| true).is_ok());
    }

    #[test]
    fn globs_follow_gitignore_habits() {
        let f = parse("allow-paths: ['./docs', 'vendor/', '**/*.min.js', 'a/*.txt']\n")
            .unwrap()
            .filters();
        assert!(f.skips_path("docs/x.md"));
        assert!(!f.skips_path("src/docs/x.md"));
        assert!(f.skips_path("vendor/lib/a.go"));
        assert!(f.skips_path("web/vendor/lib/a.go"));
        assert!(f.skips_path("static/app.min.js"));
        assert!(f.skips_path("a/b.txt"));
        assert!(!f.skips_path("a/b/c.txt"));
        assert!(error("allow-paths: ['a/[b']\n").contains("invalid glob"));
    }
}
