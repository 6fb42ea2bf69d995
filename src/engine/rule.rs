//! Rules are data: YAML files under `patterns/` (embedded in the binary) or a user's
//! `--rules DIR`. This module reads them into `RuleSpec`s and compiles each into a `Rule`
//! the engine can run. Structural problems are errors naming the file and rule.

use std::fmt;
use std::path::{Path, PathBuf};

use regex::bytes::{Regex, RegexBuilder};
use regex_automata::meta;
use regex_automata::util::syntax;
use serde::{Deserialize, Serialize};

use super::checksum::Checksum;
use crate::finding::Confidence;

/// The built-in rule pack, embedded at build time (see `build.rs`).
pub const BUILTIN_RULE_FILES: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Bytes searched either side of a keyword hit when a rule does not say and its regex
/// has no maximum length.
pub const DEFAULT_WINDOW: usize = 512;

/// The most a window derived from a regex's maximum length may reach; a rule that needs
/// more says so with `window`.
pub const MAX_DERIVED_WINDOW: usize = 16 * 1024;

/// One rule as written in a rule file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Why a rule has no keywords; required when `keywords` is empty.
    #[serde(default)]
    pub no_keywords: Option<String>,
    /// The pattern; empty when `context` writes it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub regex: String,
    /// A provider's key without a prefix of its own, found by the provider's name in the
    /// key it is assigned to (see `ContextSpec`). Exclusive with `regex`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<ContextSpec>,
    #[serde(default)]
    pub min_entropy: Option<f64>,
    pub confidence: Confidence,
    #[serde(default)]
    pub checksum: Option<Checksum>,
    #[serde(default)]
    pub window: Option<usize>,
    #[serde(default)]
    pub generic: bool,
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

/// A keyless rule: `names` (the provider's names, which become the keywords) inside a
/// key, the key assigned a value of shape `value` in any common syntax: `ADOBE_KEY=v`,
/// `adobeKey: "v"`, `"adobe_key": "v"`, `export ADOBE_KEY=v`, `<adobeKey>v</adobeKey>`,
/// `adobeKey="v"`, `<add key="AdobeKey" value="v"/>`, `X-Adobe-Key: v`,
/// `--adobe-key v`, `adobe.setKey("v")`, `adobe_key => 'v'`, `os.environ['ADOBE_KEY'] = v`,
/// `ADOBE_KEY: string = v`, `adobe_key <- v`, a Kubernetes env entry (`- name: ADOBE_KEY`,
/// `value: v`), and a key under a block or
/// section named for the provider (`adobe:` then `  apiKey: v` within four lines,
/// `"adobe": {`, `[adobe]`). The key must also hold one of `labels` (before or after the
/// name, or as the key under the block), or be the name alone (`ADOBE=v`); an empty
/// list drops that need, and the block forms with it. `-` counts as an operator too
/// (`adobeKey-v`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContextSpec {
    pub names: Vec<String>,
    /// The value's shape: a regex without capture groups, matched case-sensitively. It
    /// must end where the value ends: a value followed by more of `[0-9A-Za-z_+/=-]` is
    /// not matched.
    pub value: String,
    #[serde(default = "default_labels")]
    pub labels: Vec<String>,
}

/// Words that make a key name a credential's: `adobe_api_key`, `AdobeClientSecret`.
pub const DEFAULT_LABELS: &[&str] = &[
    "key", "token", "secret", "pass", "pwd", "auth", "cred", "bearer", "access", "private",
    "signing", "session", "sid",
];

fn default_labels() -> Vec<String> {
    DEFAULT_LABELS.iter().map(|s| s.to_string()).collect()
}

/// The shortest provider name a context rule may key on: shorter ones hit everywhere.
pub const MIN_CONTEXT_NAME: usize = 3;

impl ContextSpec {
    /// The regex this context stands for. The key part is case-insensitive, the value
    /// as written. Bounded everywhere, so the rule's window is derived from its length.
    pub fn regex(&self) -> String {
        let alt = |words: &[String]| {
            words
                .iter()
                .map(|w| regex_syntax::escape(w))
                .collect::<Vec<_>>()
                .join("|")
        };
        let names = alt(&self.names);
        // Identifier characters of a key, and the spaces of `airbrake secretKey=`.
        let part = r"[\w.\-]";
        let spaced = r"[\w.\- ]";
        let key = if self.labels.is_empty() {
            format!("(?:{names}){part}{{0,32}}")
        } else {
            let labels = alt(&self.labels);
            // The name on a line of its own, the key on one of the next four lines:
            // a YAML or JSON block (`adobe:` / `"adobe": {`) or a TOML/INI section
            // (`[adobe]`).
            let block = r#"(?:["']?[ \t]*[:=][ \t]*[{\[]?|\])[ \t]*\r?\n(?:[^\n]{0,120}\n){0,3}?[ \t]*(?:-[ \t]+)?["']?"#;
            // The provider's host, then a query parameter named by a label:
            // `https://api.acme.io/v1/items?api_key=v`.
            let query = r#"[^\s"'<>]{0,100}?[?&]"#;
            format!(
                "(?:(?:{names})(?:(?:{spaced}{{0,24}}?|{part}{{0,24}}{block}{part}{{0,24}}|{query}{part}{{0,24}}?)(?:{labels}){part}{{0,24}})?|(?:{labels}){part}{{0,24}}?(?:{names}){part}{{0,24}})"
            )
        };
        // The key's closing quote, the operator and the value's opening quote.
        // `]` closes a subscript: `os.environ['ACME_KEY'] = v`.
        let close = r#"(?:["'`]?\]?|&quot;|\")"#;
        // Besides the operators: a type annotation (`ACME_KEY: string = v`), R's `<-`,
        // an XML `key="…" value="…"` pair and a Kubernetes env entry (`- name: ACME_KEY`
        // with `value: v` on the next line).
        let op = r#"(?:=>|->|<-|:=|::|\?=|\|\|=|[=:,>(-]|:[ \t]*&?[A-Za-z][\w<>\[\]']{0,15}[ \t]*=|[ \t]value[ \t]*=|[ \t]*\r?\n[ \t]*value[ \t]*:|[ \t])"#;
        let open = r#"(?:["'`]|&quot;|\")?"#;
        let value = &self.value;
        format!("(?i:{key}){close}[ \t]{{0,8}}{op}[ \t]{{0,8}}{open}(?P<secret>{value}){VALUE_END}")
    }

    /// The longest match of `regex`, `None` when unbounded. It depends only on the
    /// lengths of the longest name and label and of the longest value, so one stand-in
    /// regex per combination of those is parsed, once per process.
    fn maximum_len(&self) -> Result<Option<usize>, String> {
        use std::collections::HashMap;
        use std::sync::{LazyLock, Mutex};
        /// The longest name, the longest label (none: no labels), the longest value.
        type Lengths = (usize, Option<usize>, usize);
        static KNOWN: LazyLock<Mutex<HashMap<Lengths, Option<usize>>>> =
            LazyLock::new(Mutex::default);
        let parse = |pattern: &str| {
            regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(pattern)
                .map_err(|e| e.to_string())
        };
        let Some(value) = parse(&self.value)?.properties().maximum_len() else {
            return Ok(None);
        };
        let longest = |words: &[String]| words.iter().map(String::len).max().unwrap_or(0);
        let name = longest(&self.names);
        let label = (!self.labels.is_empty()).then(|| longest(&self.labels));
        let key = (name, label, value);
        if let Some(known) = KNOWN.lock().ok().and_then(|k| k.get(&key).copied()) {
            return Ok(known);
        }
        let stand_in = ContextSpec {
            names: vec!["n".repeat(name)],
            value: format!("v{{{value}}}"),
            labels: label.map(|l| vec!["l".repeat(l)]).unwrap_or_default(),
        };
        let max = parse(&stand_in.regex())?.properties().maximum_len();
        if let Ok(mut known) = KNOWN.lock() {
            known.insert(key, max);
        }
        Ok(max)
    }

    /// The value alone, as `regex` ends it: a window without a match of it cannot hold a
    /// match of the whole rule, and this small regex rules such windows out at a
    /// fraction of the cost of the key forms (names are often common words).
    pub fn gate(&self) -> String {
        format!("(?:{}){VALUE_END}", self.value)
    }
}

/// A context value ends at anything that could not continue it, except `(`: a value
/// followed by one is the name of a function called (`acmeToken = loadAcmeToken()`).
const VALUE_END: &str = r"(?:[^0-9A-Za-z_+/=\-(]|$)";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rules: Vec<RuleSpec>,
}

/// Where a rule came from, for error messages and `rules list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleOrigin {
    Builtin(&'static str),
    File(PathBuf),
}

impl fmt::Display for RuleOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleOrigin::Builtin(name) => write!(f, "<builtin>/{name}"),
            RuleOrigin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{origin}: cannot read: {error}")]
    Read {
        origin: RuleOrigin,
        error: std::io::Error,
    },
    #[error("{origin}: invalid rule file: {message}")]
    Syntax { origin: RuleOrigin, message: String },
    #[error("{origin}: rule `{id}`: {message}")]
    Invalid {
        origin: RuleOrigin,
        id: String,
        message: String,
    },
    #[error("rule `{id}` is defined twice: in {first} and in {second}")]
    Duplicate {
        id: String,
        first: RuleOrigin,
        second: RuleOrigin,
    },
    #[error("unknown rule id `{0}` (see `tollgate rules list`)")]
    UnknownId(String),
    #[error("no rules left to run after --only-rule and --disable-rule")]
    NoRules,
}

/// A rule checked and ready to run. Its regex is compiled on first use: compiling a few
/// hundred regexes takes longer than a typical push takes to scan, and most pushes
/// touch only a handful of rules.
#[derive(Debug, Clone)]
pub struct Rule {
    pub spec: RuleSpec,
    pub origin: RuleOrigin,
    compiled: std::sync::OnceLock<Result<CompiledRegex, String>>,
    pub allow: Vec<Regex>,
    /// Bytes searched either side of a keyword hit.
    window: usize,
    /// The regex anchors to line ends or has no maximum length: windows then run to the
    /// end of their line.
    to_line_end: bool,
}

/// The rule's regex and the index of its `secret` group. A `meta::Regex` rather than
/// `regex::bytes::Regex`, so that each worker passes its own cache (see `Scratch`)
/// instead of sharing a pool.
#[derive(Debug, Clone)]
pub struct CompiledRegex {
    pub regex: meta::Regex,
    pub secret_group: usize,
    /// For a context rule, its value alone (`ContextSpec::gate`): searched first in each
    /// window, which the whole regex then searches only where the value occurs.
    pub gate: Option<meta::Regex>,
    /// The `key` group of generic rules: the name the value is assigned to.
    pub key_group: Option<usize>,
}

impl Rule {
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    pub fn window(&self) -> usize {
        self.window
    }

    pub fn to_line_end(&self) -> bool {
        self.to_line_end
    }

    /// The compiled regex, compiling it on first use.
    pub fn compiled(&self) -> Result<&CompiledRegex, &str> {
        self.compiled
            .get_or_init(|| {
                let regex = compile_meta(&self.spec.regex, self.spec.context.is_none())?;
                let secret_group = regex
                    .group_info()
                    .to_index(regex_automata::PatternID::ZERO, "secret")
                    .ok_or("regex has no named group `secret`")?;
                let gate = match &self.spec.context {
                    Some(context) => Some(compile_meta(&context.gate(), true)?),
                    None => None,
                };
                let key_group = regex
                    .group_info()
                    .to_index(regex_automata::PatternID::ZERO, "key");
                Ok(CompiledRegex {
                    regex,
                    secret_group,
                    gate,
                    key_group,
                })
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// Compile a spec, checking everything that can be checked without running it.
    pub fn compile(mut spec: RuleSpec, origin: RuleOrigin) -> Result<Rule, RuleError> {
        let invalid = |message: String| RuleError::Invalid {
            origin: origin.clone(),
            id: spec.id.clone(),
            message,
        };
        if let Some(context) = &spec.context {
            if !spec.regex.is_empty() {
                return Err(invalid("a rule has `regex` or `context`, not both".into()));
            }
            if context.names.is_empty() {
                return Err(invalid("`context.names` is empty".into()));
            }
            if let Some(short) = context
                .names
                .iter()
                .find(|n| n.trim().len() < MIN_CONTEXT_NAME)
            {
                return Err(invalid(format!(
                    "context name `{short}` is shorter than {MIN_CONTEXT_NAME} characters"
                )));
            }
            let value = regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(&context.value)
                .map_err(|e| invalid(format!("context.value: {e}")))?;
            if value.properties().explicit_captures_len() > 0 {
                return Err(invalid(
                    "context.value has a capture group: use `(?:...)`".into(),
                ));
            }
            if spec.keywords.is_empty() {
                spec.keywords = context.names.clone();
            }
            spec.regex = context.regex();
        } else if spec.regex.is_empty() {
            return Err(invalid("a rule needs `regex` or `context`".into()));
        }
        if !is_valid_id(&spec.id) {
            return Err(invalid(
                "id must be lowercase `family.name` (letters, digits, `.`, `-`, `_`)".into(),
            ));
        }
        if spec.keywords.is_empty() && spec.no_keywords.as_deref().is_none_or(str::is_empty) {
            return Err(invalid(
                "`keywords` is empty: add keywords, or say why not in `no_keywords`".into(),
            ));
        }
        if spec.keywords.iter().any(|k| k.trim().is_empty()) {
            return Err(invalid("a keyword is empty".into()));
        }
        if let Some(e) = spec.min_entropy {
            if !(0.0..=8.0).contains(&e) {
                return Err(invalid(format!("min_entropy {e} is outside 0..=8")));
            }
        }
        if spec.window == Some(0) {
            return Err(invalid("window must be at least 1".into()));
        }
        // A keyword is part of the match, so a match of bounded length lies within that
        // length of the hit; only unbounded regexes need the default reach.
        let (max_len, anchored) = match &spec.context {
            // Written by the engine from checked parts: its shape is known, and parsing
            // hundreds of them would cost more than a typical push takes to scan.
            Some(context) => (
                context
                    .maximum_len()
                    .map_err(|e| invalid(format!("context: {e}")))?,
                true,
            ),
            None => {
                // Parsing is cheap and catches what a rule author gets wrong; compiling
                // waits.
                let hir = regex_syntax::ParserBuilder::new()
                    .unicode(false)
                    .utf8(false)
                    .build()
                    .parse(&spec.regex)
                    .map_err(|e| invalid(format!("regex: {e}")))?;
                if !has_named_group(&hir, "secret") {
                    return Err(invalid("regex has no named group `secret`".into()));
                }
                (
                    hir.properties().maximum_len(),
                    hir.properties().look_set().contains_anchor(),
                )
            }
        };
        let window = spec
            .window
            .unwrap_or_else(|| max_len.map_or(DEFAULT_WINDOW, |max| max.min(MAX_DERIVED_WINDOW)));
        let to_line_end = max_len.is_none() || anchored;
        let allow = spec
            .allow
            .iter()
            .map(|a| compile_regex(a).map_err(|e| invalid(format!("allow regex `{a}`: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Rule {
            spec,
            origin,
            compiled: std::sync::OnceLock::new(),
            allow,
            window,
            to_line_end,
        })
    }
}

/// All rule regexes are byte regexes with Unicode off: inputs are arbitrary bytes, and
/// ASCII classes keep the lazy DFA fast on non-ASCII text.
pub fn compile_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(32 << 20)
        .dfa_size_limit(32 << 20)
        .build()
}

fn has_named_group(hir: &regex_syntax::hir::Hir, name: &str) -> bool {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Capture(c) => c.name.as_deref() == Some(name) || has_named_group(&c.sub, name),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().any(|h| has_named_group(h, name))
        }
        HirKind::Repetition(r) => has_named_group(&r.sub, name),
        _ => false,
    }
}

/// A rule regex as the engine runs it: over bytes, Unicode off, leftmost-first.
///
/// `prefilter: false` skips the literal prefilter: a context rule's case-insensitive
/// names and labels expand to hundreds of literals, which take longer to extract than
/// the rule's small windows take to search without them.
fn compile_meta(pattern: &str, prefilter: bool) -> Result<meta::Regex, String> {
    meta::Builder::new()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .configure(
            meta::Config::new()
                .utf8_empty(false)
                .nfa_size_limit(Some(32 << 20))
                .auto_prefilter(prefilter)
                .hybrid_cache_capacity(4 << 20),
        )
        .build(pattern)
        .map_err(|e| e.to_string())
}

fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.contains('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// Parse one rule file's text.
pub fn parse_rule_file(text: &str, origin: &RuleOrigin) -> Result<Vec<RuleSpec>, RuleError> {
    let file: RuleFile = yaml_serde::from_str(text).map_err(|e| RuleError::Syntax {
        origin: origin.clone(),
        message: without_quoted_values(&e.to_string()),
    })?;
    Ok(file.rules)
}

/// Parse and compile the rules of one file's text.
pub fn compile_rule_file(text: &str, origin: &RuleOrigin) -> Result<Vec<Rule>, RuleError> {
    parse_rule_file(text, origin)?
        .into_iter()
        .map(|spec| Rule::compile(spec, origin.clone()))
        .collect()
}

/// A parser's message without the values it quotes: a file passed to `--rules` by
/// mistake may be full of secrets, and an error message must not print them.
fn without_quoted_values(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..open]);
        match rest[open + 1..].find('"') {
            Some(close) => {
                out.push_str("\"…\"");
                rest = &rest[open + close + 2..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Read and compile one rule file from disk.
pub fn load_rule_file(path: &Path) -> Result<Vec<Rule>, RuleError> {
    let origin = RuleOrigin::File(path.to_path_buf());
    let text = std::fs::read_to_string(path).map_err(|error| RuleError::Read {
        origin: origin.clone(),
        error,
    })?;
    compile_rule_file(&text, &origin)
}

/// The `*.yaml` / `*.yml` files of a directory, sorted; a file path is returned as is.
pub fn rule_files_in(path: &Path) -> Result<Vec<PathBuf>, RuleError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let read_err = |error| RuleError::Read {
        origin: RuleOrigin::File(path.to_path_buf()),
        error,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(read_err)? {
        let p = entry.map_err(read_err)?.path();
        if p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// The built-in pack, compiled.
pub fn builtin_rules() -> Result<Vec<Rule>, RuleError> {
    // Over all cores: the pack's load is most of what a small push's scan costs. Scoped
    // threads, not rayon's global pool: the pack may load before `--threads` sizes it.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = BUILTIN_RULE_FILES.len().div_ceil(threads).max(1);
    let compile_chunk = |chunk: &[(&'static str, &'static str)]| {
        let mut rules = Vec::new();
        for (name, text) in chunk {
            rules.extend(compile_rule_file(text, &RuleOrigin::Builtin(name))?);
        }
        Ok::<_, RuleError>(rules)
    };
    let chunks: Vec<Result<Vec<Rule>, RuleError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = BUILTIN_RULE_FILES
            .chunks(per_thread)
            .map(|chunk| scope.spawn(move || compile_chunk(chunk)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut rules = Vec::new();
    for chunk in chunks {
        rules.extend(chunk?);
    }
    Ok(rules)
}

/// Which rules a scan runs: the built-in pack plus user files, minus disabled ones.
#[derive(Debug, Clone, Default)]
pub struct RuleSelection {
    pub builtin: bool,
    pub extra_paths: Vec<PathBuf>,
    pub disabled: Vec<String>,
    pub only: Vec<String>,
}

impl RuleSelection {
    pub fn load(&self) -> Result<Vec<Rule>, RuleError> {
        let mut rules = if self.builtin {
            builtin_rules()?
        } else {
            Vec::new()
        };
        for dir in &self.extra_paths {
            for file in rule_files_in(dir)? {
                let loaded = load_rule_file(&file)?;
                // A user's regex that does not compile is an error now, not a rule that
                // silently finds nothing later.
                for rule in &loaded {
                    if let Err(message) = rule.compiled() {
                        return Err(RuleError::Invalid {
                            origin: rule.origin.clone(),
                            id: rule.spec.id.clone(),
                            message: format!("regex: {message}"),
                        });
                    }
                }
                rules.extend(loaded);
            }
        }
        check_unique(&rules)?;
        for id in self.disabled.iter().chain(&self.only) {
            if !rules.iter().any(|r| r.id() == id) {
                return Err(RuleError::UnknownId(id.clone()));
            }
        }
        rules.retain(|r| !self.disabled.iter().any(|d| d == r.id()));
        if !self.only.is_empty() {
            rules.retain(|r| self.only.iter().any(|o| o == r.id()));
        }
        if rules.is_empty() {
            return Err(RuleError::NoRules);
        }
        Ok(rules)
    }
}

pub fn check_unique(rules: &[Rule]) -> Result<(), RuleError> {
    let mut seen: std::collections::HashMap<&str, &RuleOrigin> = Default::default();
    for rule in rules {
        if let Some(first) = seen.insert(rule.id(), &rule.origin) {
            return Err(RuleError::Duplicate {
                id: rule.id().to_string(),
                first: first.clone(),
                second: rule.origin.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> Result<Rule, RuleError> {
        let origin = RuleOrigin::File("t.yaml".into());
        let specs = parse_rule_file(yaml, &origin)?;
        Rule::compile(specs.into_iter().next().unwrap(), origin)
    }

    #[test]
    fn missing_secret_group_is_an_error() {
        let err = spec(
            "rules:\n- id: a.b\n  name: n\n  keywords: [x]\n  regex: 'x+'\n  confidence: high\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("no named group `secret`"), "{err}");
    }

    #[test]
    fn empty_keywords_need_a_reason() {
        let err =
            spec("rules:\n- id: a.b\n  name: n\n  regex: '(?P<secret>x+)'\n  confidence: high\n")
                .unwrap_err();
        assert!(err.to_string().contains("no_keywords"), "{err}");
        spec("rules:\n- id: a.b\n  name: n\n  no_keywords: shapes only\n  regex: '(?P<secret>x+)'\n  confidence: high\n")
            .unwrap();
    }

    #[test]
    fn unknown_fields_and_bad_ids_are_errors() {
        let err = spec("rules:\n- id: a.b\n  name: n\n  keywrds: [x]\n  regex: '(?P<secret>x)'\n  confidence: high\n")
            .unwrap_err();
        assert!(err.to_string().contains("keywrds"), "{err}");
        let err = spec("rules:\n- id: Bad\n  name: n\n  keywords: [x]\n  regex: '(?P<secret>x)'\n  confidence: high\n")
            .unwrap_err();
        assert!(err.to_string().contains("lowercase"), "{err}");
    }

    #[test]
    fn syntax_errors_do_not_echo_file_content() {
        let origin = RuleOrigin::File("x.env".into());
        let err = parse_rule_file(
            "GITHUB_TOKEN=ghp_p1GJabcdefghijklmnopqrstuvwxyz0123",
            &origin,
        )
        .unwrap_err();
        assert!(!err.to_string().contains("ghp_p1GJ"), "{err}");
        assert!(err.to_string().contains("x.env"), "{err}");
    }

    #[test]
    fn context_rules_write_their_regex_and_keywords() {
        let rule = spec("rules:\n- id: a.b\n  name: n\n  context:\n    names: [Acme]\n    value: '[0-9a-f]{8}'\n  confidence: medium\n")
            .unwrap();
        assert_eq!(rule.spec.keywords, ["Acme"]);
        let re = compile_regex(&rule.spec.regex).unwrap();
        let secret = |line: &str| {
            re.captures(line.as_bytes())
                .map(|c| String::from_utf8_lossy(&c["secret"]).into_owned())
        };
        for line in [
            "ACME_API_KEY=0a1b2c3d",
            "acmeToken: \"0a1b2c3d\"",
            "<add key=\"AcmeSecret\" value=\"0a1b2c3d\"/>",
            "TOKEN_FOR_ACME = '0a1b2c3d';",
            "acme:\n  enabled: true\n  api_key: 0a1b2c3d\n",
            "\"acme\": {\n    \"secret\": \"0a1b2c3d\"\n}",
            "[acme]\ntoken = \"0a1b2c3d\"\n",
            "os.environ['ACME_API_KEY'] = '0a1b2c3d'",
            "const ACME_TOKEN: string = \"0a1b2c3d\";",
            "let acme_key: &str = \"0a1b2c3d\";",
            "acme_key <- \"0a1b2c3d\"",
            "        - name: ACME_API_KEY\n          value: \"0a1b2c3d\"\n",
            "curl 'https://api.acme.io/v1/items?limit=5&api_key=0a1b2c3d'",
        ] {
            assert_eq!(secret(line).as_deref(), Some("0a1b2c3d"), "{line}");
        }
        // The stand-in's length is the whole regex's, for every built-in context rule.
        for rule in builtin_rules().unwrap() {
            if let Some(context) = &rule.spec.context {
                let hir = regex_syntax::ParserBuilder::new()
                    .unicode(false)
                    .utf8(false)
                    .build()
                    .parse(&rule.spec.regex)
                    .unwrap();
                assert!(has_named_group(&hir, "secret"), "{}", rule.spec.id);
                assert!(hir.properties().look_set().contains_anchor());
                assert_eq!(
                    context.maximum_len().unwrap(),
                    hir.properties().maximum_len(),
                    "{}",
                    rule.spec.id
                );
            }
        }
        // The gate lets through every text the whole regex matches, and rules out one
        // where the key is there but no value of the shape is.
        let gate = compile_regex(&rule.spec.context.as_ref().unwrap().gate()).unwrap();
        assert!(gate.is_match(b"ACME_API_KEY=0a1b2c3d;"));
        assert!(gate.is_match(b"ACME_API_KEY=0a1b2c3d"));
        assert!(!gate.is_match(b"ACME_API_KEY=0a1b2c"));
        assert!(!gate.is_match(b"ACME_API_KEY=${ACME_API_KEY}"));
        assert_eq!(secret("ACME=0a1b2c3d").as_deref(), Some("0a1b2c3d"));
        assert_eq!(secret("acme SECRET-0a1b2c3d").as_deref(), Some("0a1b2c3d"));
        // Too long for the shape, or a key that names no credential.
        assert_eq!(secret("ACME_API_KEY=0a1b2c3d4e"), None);
        assert_eq!(secret("ACME_VERSION=0a1b2c3d"), None);
        assert_eq!(secret("acmeToken = deadbeef(config)"), None);
        assert_eq!(secret("https://acme.io/items?page=0a1b2c3d"), None);
        assert_eq!(secret("acme-version-0a1b2c3d"), None);
        assert_eq!(
            secret("acme:\n  a: 1\n  b: 2\n  c: 3\n  d: 4\n  key: 0a1b2c3d\n"),
            None
        );

        let err = spec("rules:\n- id: a.b\n  name: n\n  regex: '(?P<secret>x)'\n  context:\n    names: [acme]\n    value: x\n  confidence: high\n")
            .unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
        let err = spec("rules:\n- id: a.b\n  name: n\n  context:\n    names: [io]\n    value: x\n  confidence: high\n")
            .unwrap_err();
        assert!(err.to_string().contains("shorter"), "{err}");
        let err = spec("rules:\n- id: a.b\n  name: n\n  context:\n    names: [acme]\n    value: '(x)'\n  confidence: high\n")
            .unwrap_err();
        assert!(err.to_string().contains("capture"), "{err}");
    }

    #[test]
    fn builtin_pack_compiles_with_unique_ids() {
        let rules = builtin_rules().expect("built-in rules compile");
        check_unique(&rules).unwrap();
        // One keyword shorter than three bytes turns the keyword filters off for every
        // rule (see `keywords`): the whole pack would scan at a fraction of its speed.
        for rule in &rules {
            for kw in &rule.spec.keywords {
                assert!(kw.len() >= 3, "{}: keyword `{kw}` is too short", rule.id());
            }
        }
    }
}
