//! `tollgate pre-receive`: the server-side gate. Git runs it with the pushed objects still
//! in a quarantine directory and one `<old> <new> <ref>` line per ref on stdin; it scans
//! exactly what the push adds and exits non-zero to reject the push.
//!
//! Policy comes from `git config` (repository, then global and system), so one binary
//! serves every repository of a server. The scan runs under a time budget; a timeout or an
//! internal error ends in the configured outcome, never in a hang.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;

use crate::added_lines;
use crate::engine::{Engine, ScratchPool};
use crate::finding::{Confidence, Finding, GitContext};
use crate::scan::{scan_blob, ScanConfig};
use crate::snippet;
use crate::source::git::{self, BlobRead, HistoryPlan};
use crate::source::messages;
use crate::source::ref_content::ContentRef;
use crate::source::sniff::{sniff, Sniffed};
use crate::source::Provenance;

/// The push option that asks to skip the scan (honoured only with `tollgate.allowBypass`).
pub const SKIP_PUSH_OPTION: &str = "tollgate.skip";
/// A commit message containing this skips the scan of the ref it is the tip of (honoured
/// only with `tollgate.allowBypass`).
pub const SKIP_MESSAGE_MARKER: &str = "[tollgate skip]";
/// The first line of every hook file tollgate writes; `hook uninstall` removes only those.
pub const HOOK_MARKER: &str = "# tollgate pre-receive hook";

/// What to do when the scan cannot decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Accept,
    Reject,
}

/// Server-side settings, from `git config`.
#[derive(Debug, Clone)]
pub struct HookPolicy {
    /// `tollgate.minConfidence` (default `medium`): findings below do not block.
    pub min_confidence: Confidence,
    /// `tollgate.timeout` (default `4s`).
    pub timeout: Duration,
    /// `tollgate.onTimeout` (default `reject`: a push that can make the scan slow must
    /// not get past it that way).
    pub on_timeout: Outcome,
    /// `tollgate.onError` (default `reject`: a push the scan cannot read in full, for
    /// one a file over `tollgate.maxFileSize`, is not a clean push).
    pub on_error: Outcome,
    /// `tollgate.inlineAllow` (default `true`): whether `tollgate:allow` markers in the
    /// pushed files suppress findings. Every finding a marker suppresses is written to
    /// the audit log; with `false`, markers count for nothing.
    pub inline_allow: bool,
    /// `tollgate.allowBypass` (default `false`).
    pub allow_bypass: bool,
    /// `tollgate.auditLog` (default `<git dir>/tollgate-audit.jsonl`; `false` or empty
    /// turns it off).
    pub audit_log: Option<PathBuf>,
    /// `tollgate.maxFileSize` (default `10M`): larger pushed files are not scanned, and
    /// the push counts as not fully scanned (`tollgate.onError` decides).
    pub max_file_size: u64,
}

impl HookPolicy {
    fn defaults(git_dir: &Path) -> HookPolicy {
        HookPolicy {
            min_confidence: Confidence::Medium,
            timeout: Duration::from_secs(4),
            on_timeout: Outcome::Reject,
            on_error: Outcome::Reject,
            inline_allow: true,
            allow_bypass: false,
            audit_log: Some(git_dir.join("tollgate-audit.jsonl")),
            max_file_size: crate::scan::DEFAULT_MAX_FILE_SIZE,
        }
    }

    /// Read the policy; a value that does not parse is an error rather than a silent
    /// default, so that a typo in a security setting is noticed. On error, the defaults
    /// come back with `tollgate.onError` applied if that much could be read (and
    /// `reject` if `tollgate.onError` itself is what does not parse).
    fn from_config(repo: &gix::Repository) -> Result<HookPolicy, (String, HookPolicy)> {
        let config = repo.config_snapshot();
        let get = |key: &str| config.string(key).map(|v| v.to_string());
        let mut fallback = HookPolicy::defaults(repo.git_dir());
        if let Some(v) = get("tollgate.onError") {
            fallback.on_error = parse_outcome(&v).unwrap_or(Outcome::Reject);
        }
        Self::read(repo, &get).map_err(|e| (e, fallback))
    }

    fn read(
        repo: &gix::Repository,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<HookPolicy, String> {
        let config = repo.config_snapshot();
        let mut policy = HookPolicy::defaults(repo.git_dir());
        if let Some(v) = get("tollgate.minConfidence") {
            policy.min_confidence = v
                .parse()
                .map_err(|e| format!("tollgate.minConfidence: {e}"))?;
        }
        if let Some(v) = get("tollgate.timeout") {
            policy.timeout =
                parse_duration(&v).ok_or(format!("tollgate.timeout: `{v}` is not a duration"))?;
        }
        if let Some(v) = get("tollgate.onTimeout") {
            policy.on_timeout =
                parse_outcome(&v).ok_or(format!("tollgate.onTimeout: `{v}` (accept or reject)"))?;
        }
        if let Some(v) = get("tollgate.onError") {
            policy.on_error =
                parse_outcome(&v).ok_or(format!("tollgate.onError: `{v}` (accept or reject)"))?;
        }
        if get("tollgate.inlineAllow").is_some() {
            policy.inline_allow = config
                .boolean("tollgate.inlineAllow")
                .ok_or("tollgate.inlineAllow: not a boolean")?;
        }
        if get("tollgate.allowBypass").is_some() {
            policy.allow_bypass = config
                .boolean("tollgate.allowBypass")
                .ok_or("tollgate.allowBypass: not a boolean")?;
        }
        if let Some(v) = get("tollgate.maxFileSize") {
            policy.max_file_size =
                crate::cli::parse_size(&v).map_err(|e| format!("tollgate.maxFileSize: {e}"))?;
        }
        if let Some(v) = get("tollgate.auditLog") {
            policy.audit_log = match v.trim() {
                "" | "false" | "off" | "no" => None,
                path => Some(PathBuf::from(path)),
            };
        }
        Ok(policy)
    }
}

/// `4`, `4s`, `1500ms`, `1m`.
fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    let (number, unit) = match v.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&v[..i], v[i..].trim()),
        None => (v, "s"),
    };
    let n: f64 = number.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" | "min" => n * 60.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
}

fn parse_outcome(v: &str) -> Option<Outcome> {
    match v.trim().to_ascii_lowercase().as_str() {
        "accept" | "open" | "allow" => Some(Outcome::Accept),
        "reject" | "closed" | "deny" | "block" => Some(Outcome::Reject),
        _ => None,
    }
}

/// One line of stdin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefUpdate {
    pub old: String,
    pub new: String,
    #[serde(rename = "ref")]
    pub name: String,
}

impl RefUpdate {
    fn is_deletion(&self) -> bool {
        is_zero(&self.new)
    }
}

fn is_zero(id: &str) -> bool {
    id.bytes().all(|b| b == b'0')
}

/// Parse the hook's stdin: `<old> <new> <ref>` lines of 40 or 64 hex digits.
pub fn parse_updates(input: &str) -> Result<Vec<RefUpdate>, String> {
    let mut updates = Vec::new();
    for (n, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let hex =
            |s: &str| (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit());
        match fields.as_slice() {
            [old, new, name] if hex(old) && hex(new) && old.len() == new.len() => {
                updates.push(RefUpdate {
                    old: old.to_string(),
                    new: new.to_string(),
                    name: name.to_string(),
                })
            }
            _ => {
                return Err(format!(
                    "line {}: expected `<old-id> <new-id> <ref>`",
                    n + 1
                ))
            }
        }
    }
    Ok(updates)
}

/// What the scan decided.
#[derive(Debug, Default)]
struct Verdict {
    findings: Vec<Finding>,
    /// Posture findings (a Role that reads secrets, a hostPath mount): shown, not
    /// blocking: the push adds no secret.
    notes: Vec<Finding>,
    /// Refs whose scan was skipped by a bypass.
    bypassed: Vec<String>,
    bypass_reason: Option<String>,
    warnings: Vec<String>,
    complete: bool,
    /// Findings that `tollgate:allow` markers suppressed (and would have blocked): they
    /// go to the audit log.
    inline_allowed: Vec<Finding>,
}

/// The pusher, as the server tells it.
fn pusher() -> String {
    [
        "GL_USERNAME",
        "GITHUB_USER_LOGIN",
        "GITEA_PUSHER_NAME",
        "REMOTE_USER",
        "USER",
    ]
    .iter()
    .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    .unwrap_or_else(|| "unknown".into())
}

fn push_options() -> Vec<String> {
    let count: usize = std::env::var("GIT_PUSH_OPTION_COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (0..count.min(1000))
        .filter_map(|i| std::env::var(format!("GIT_PUSH_OPTION_{i}")).ok())
        .collect()
}

/// Lines to the pusher: Git relays the hook's stderr as `remote: ...`; GitLab shows
/// lines prefixed `GL-HOOK-ERR: ` in its interface.
struct Messages {
    prefix: &'static str,
    lines: Vec<String>,
}

impl Messages {
    fn new() -> Messages {
        let gitlab = std::env::var_os("GL_ID").is_some();
        Messages {
            prefix: if gitlab { "GL-HOOK-ERR: " } else { "" },
            lines: Vec::new(),
        }
    }
    fn say(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }
    fn flush(&self) {
        let mut err = std::io::stderr().lock();
        for line in &self.lines {
            let _ = writeln!(err, "{}{}", self.prefix, snippet::escaped(line));
        }
    }
}

#[derive(Serialize)]
struct AuditFinding<'a> {
    rule_id: &'a str,
    commit: &'a str,
    path: &'a str,
    line: usize,
    fingerprint: &'a str,
}

#[derive(Serialize)]
struct AuditRecord<'a> {
    time: String,
    repository: String,
    user: String,
    action: &'a str,
    reason: Option<&'a str>,
    refs: &'a [RefUpdate],
    findings: Vec<AuditFinding<'a>>,
}

fn audit(
    policy: &HookPolicy,
    git_dir: &Path,
    action: &str,
    reason: Option<&str>,
    refs: &[RefUpdate],
    findings: &[Finding],
) {
    let Some(path) = &policy.audit_log else {
        return;
    };
    let record = AuditRecord {
        time: gix::date::Time::now_utc()
            .format(gix::date::time::format::ISO8601_STRICT)
            .unwrap_or_default(),
        repository: git_dir.display().to_string(),
        user: pusher(),
        action,
        reason,
        refs,
        // Fingerprints, never secrets.
        findings: findings
            .iter()
            .map(|f| AuditFinding {
                rule_id: &f.rule_id,
                commit: f.git.as_ref().map_or("", |g| g.commit.as_str()),
                path: &f.path,
                line: f.line,
                fingerprint: &f.fingerprint,
            })
            .collect(),
    };
    let written = serde_json::to_string(&record)
        .map_err(std::io::Error::other)
        .and_then(|line| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?
                .write_all(format!("{line}\n").as_bytes())
        });
    if let Err(e) = written {
        eprintln!(
            "tollgate: warning: cannot append to the audit log {}: {e}",
            path.display()
        );
    }
}

/// The least time stdin is given, whatever the budget.
const STDIN_GRACE: Duration = Duration::from_secs(1);

/// Run the hook; returns the process exit code (0 accepts the push).
pub fn run_pre_receive(config: &ScanConfig, repo_dir: Option<&Path>) -> u8 {
    let started = Instant::now();
    let git_dir = repo_dir
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("GIT_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    let fail = |policy: &HookPolicy, git_dir: &Path, updates: &[RefUpdate], why: String| {
        let mut messages = Messages::new();
        undecided(
            policy,
            git_dir,
            updates,
            policy.on_error,
            "error",
            &why,
            &mut messages,
        )
    };
    let repo = match gix::open(&git_dir) {
        Ok(r) => r,
        Err(e) => {
            let defaults = HookPolicy::defaults(&git_dir);
            return fail(
                &defaults,
                &git_dir,
                &[],
                format!("cannot open the repository: {e}"),
            );
        }
    };
    let git_dir = repo
        .git_dir()
        .canonicalize()
        .unwrap_or_else(|_| repo.git_dir().to_path_buf());
    let policy = match HookPolicy::from_config(&repo) {
        Ok(p) => p,
        Err((e, fallback)) => {
            return fail(
                &fallback,
                &git_dir,
                &[],
                format!("invalid configuration: {e}"),
            )
        }
    };
    let deadline = started + policy.timeout;
    let timed_out = |updates: &[RefUpdate]| {
        let mut messages = Messages::new();
        undecided(
            &policy,
            &git_dir,
            updates,
            policy.on_timeout,
            "timeout",
            &format!(
                "the scan did not finish within tollgate.timeout ({:.1}s)",
                policy.timeout.as_secs_f64()
            ),
            &mut messages,
        )
    };

    // Stdin and the scan each run on their own thread; this one waits at most the time
    // budget, so that neither a stdin that never closes nor a slow scan can hang the push.
    // Stdin comes first, so that even a timeout is logged with the refs it concerned.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut input = Vec::new();
        let read = std::io::stdin().read_to_end(&mut input);
        let _ = tx.send(read.map(|_| input));
    });
    // Git writes every line before the hook could time out; a budget shorter than a
    // second still gives stdin a second, so that a timeout always knows its refs.
    let stdin_deadline = deadline.max(started + STDIN_GRACE);
    let updates = match rx.recv_timeout(stdin_deadline.saturating_duration_since(Instant::now())) {
        // Ref names may hold any bytes but NUL: read bytes, never fail on them.
        Ok(Ok(input)) => match parse_updates(&String::from_utf8_lossy(&input)) {
            Ok(u) => u,
            Err(e) => return fail(&policy, &git_dir, &[], format!("bad hook input: {e}")),
        },
        Ok(Err(e)) => return fail(&policy, &git_dir, &[], format!("cannot read stdin: {e}")),
        Err(_) => return timed_out(&[]),
    };
    // The object store over the quarantine lives in a directory made here, so that it is
    // removed when this function returns, whatever the scan thread is doing.
    let scratch = match tempfile::Builder::new()
        .prefix("tollgate-objects-")
        .tempdir()
    {
        Ok(d) => d,
        Err(e) => {
            return fail(
                &policy,
                &git_dir,
                &updates,
                format!("cannot create a temporary directory: {e}"),
            )
        }
    };
    let (tx, rx) = mpsc::channel();
    {
        let (config, policy, git_dir, updates, scratch) = (
            config.clone(),
            policy.clone(),
            git_dir.clone(),
            updates.clone(),
            scratch.path().to_path_buf(),
        );
        std::thread::spawn(move || {
            let _ = tx.send(scan_push(&config, &policy, &git_dir, &updates, &scratch));
        });
    }
    let outcome = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(Ok(verdict)) => {
            let mut messages = Messages::new();
            report(&policy, &git_dir, &updates, verdict, &mut messages)
        }
        Ok(Err(e)) => fail(&policy, &git_dir, &updates, format!("{e:#}")),
        Err(mpsc::RecvTimeoutError::Disconnected) => fail(
            &policy,
            &git_dir,
            &updates,
            "the scan stopped unexpectedly".into(),
        ),
        Err(mpsc::RecvTimeoutError::Timeout) => timed_out(&updates),
    };
    drop(scratch);
    outcome
}

/// A push the scan could not decide: the configured outcome, said and logged.
fn undecided(
    policy: &HookPolicy,
    git_dir: &Path,
    updates: &[RefUpdate],
    outcome: Outcome,
    action: &str,
    why: &str,
    messages: &mut Messages,
) -> u8 {
    let verb = match outcome {
        Outcome::Accept => "accepted without a complete secret scan",
        Outcome::Reject => "rejected",
    };
    messages.say(format!("tollgate: push {verb}: {why}"));
    if outcome == Outcome::Reject {
        let key = if action == "timeout" {
            "tollgate.onTimeout"
        } else {
            "tollgate.onError"
        };
        messages.say(
            "tollgate: the server rejects pushes it cannot scan in full; try again, or ask an administrator.",
        );
        messages.say(format!(
            "tollgate: (an administrator can let such pushes through, unscanned and logged: `git config {key} accept`)"
        ));
    }
    messages.flush();
    let action = format!(
        "{action}-{}",
        match outcome {
            Outcome::Accept => "accept",
            Outcome::Reject => "reject",
        }
    );
    audit(policy, git_dir, &action, Some(why), updates, &[]);
    u8::from(outcome == Outcome::Reject)
}

fn report(
    policy: &HookPolicy,
    git_dir: &Path,
    updates: &[RefUpdate],
    verdict: Verdict,
    messages: &mut Messages,
) -> u8 {
    for w in &verdict.warnings {
        messages.say(format!("tollgate: warning: {w}"));
    }
    if let Some(reason) = &verdict.bypass_reason {
        messages.say(format!(
            "tollgate: scan skipped for {} ({reason}); this push is recorded in the audit log",
            verdict.bypassed.join(", ")
        ));
        audit(policy, git_dir, "bypass", Some(reason), updates, &[]);
    }
    if !verdict.inline_allowed.is_empty() {
        let n = verdict.inline_allowed.len();
        messages.say(format!(
            "tollgate: {n} finding{} allowed by `tollgate:allow` markers; recorded in the audit log",
            if n == 1 { "" } else { "s" }
        ));
        audit(
            policy,
            git_dir,
            "inline-allow",
            Some("tollgate:allow marker"),
            updates,
            &verdict.inline_allowed,
        );
    }
    for f in &verdict.notes {
        messages.say(format!(
            "tollgate: note: {}:{}: {} ({}), not blocking",
            f.path, f.line, f.rule_name, f.rule_id
        ));
        if let Some(k) = &f.k8s {
            for line in k.describe() {
                messages.say(format!("tollgate:   {line}"));
            }
        }
    }
    if verdict.findings.is_empty() {
        if !verdict.complete {
            return undecided(
                policy,
                git_dir,
                updates,
                policy.on_error,
                "error",
                "part of the push could not be scanned (see the warnings above)",
                messages,
            );
        }
        messages.flush();
        return 0;
    }
    let n = verdict.findings.len();
    messages.say(format!(
        "tollgate: push rejected: {n} secret{} in the pushed commits",
        if n == 1 { "" } else { "s" }
    ));
    messages.say("");
    let mut oldest: Option<&GitContext> = None;
    for f in &verdict.findings {
        let g = f.git.as_ref();
        messages.say(format!(
            "  {}  {}  {} ({})",
            f.confidence.as_str(),
            f.rule_id,
            f.rule_name,
            f.secret,
        ));
        messages.say(format!(
            "    commit {}  {}:{}",
            g.map_or("", |g| &g.commit[..g.commit.len().min(12)]),
            f.path,
            f.line
        ));
        if let Some(k) = &f.k8s {
            for line in k.describe() {
                messages.say(format!("    {line}"));
            }
        }
        if let Some(g) = g {
            if oldest.is_none_or(|o| g.date < o.date) {
                oldest = Some(g);
            }
        }
    }
    messages.say("");
    messages.say("To fix it, take the secret out of the commit that added it, then push again:");
    messages.say("  - in the last commit: edit the file, `git add` it, `git commit --amend`;");
    if let Some(g) = oldest {
        messages.say(format!(
            "  - in an older commit: `git rebase -i {}~1` (`git rebase -i --root` if it is the first commit), mark that commit `edit`, fix it, `git commit --amend`, `git rebase --continue`.",
            &g.commit[..g.commit.len().min(12)]
        ));
    }
    messages.say("Treat the secret as exposed and rotate it: it has left your machine.");
    // Markers are advertised only where they count.
    if policy.inline_allow {
        messages.say(
            "A false positive? Add a `# tollgate:allow <reason>` comment right after the value (on its line), commit, and push again; the server logs it.",
        );
    }
    if policy.allow_bypass {
        messages.say(format!(
            "This server allows a bypass, which is logged: `git push -o {SKIP_PUSH_OPTION}`, or `{SKIP_MESSAGE_MARKER}` in the pushed tip commit's message."
        ));
    }
    messages.flush();
    audit(policy, git_dir, "block", None, updates, &verdict.findings);
    1
}

/// The repository as the hook must see it: with Git's quarantine (the pushed objects)
/// and the main object store together. gix does not read `GIT_OBJECT_DIRECTORY` and
/// `GIT_ALTERNATE_OBJECT_DIRECTORIES`, so the store is rebuilt from a directory whose
/// only content is an alternates file naming both. Also returns the main store alone,
/// which tells what the repository already had.
fn open_with_quarantine(
    git_dir: &Path,
    scratch: &Path,
) -> anyhow::Result<(gix::ThreadSafeRepository, gix::Repository, Option<PathBuf>)> {
    let main = gix::open(git_dir).context("cannot open the repository")?;
    let quarantine = std::env::var_os("GIT_QUARANTINE_PATH")
        .or_else(|| std::env::var_os("GIT_OBJECT_DIRECTORY"))
        .map(PathBuf::from)
        .filter(|q| q.canonicalize().ok() != main.objects.store_ref().path().canonicalize().ok());
    let Some(quarantine) = quarantine else {
        return Ok((main.clone().into_sync(), main, None));
    };
    let mut alternates = vec![
        quarantine.clone(),
        main.objects.store_ref().path().to_path_buf(),
    ];
    if let Some(extra) = std::env::var_os("GIT_ALTERNATE_OBJECT_DIRECTORIES") {
        alternates.extend(std::env::split_paths(&extra));
    }
    // `create_dir`, not `create_dir_all`: after a timeout the directory is gone and must
    // stay gone.
    std::fs::create_dir(scratch.join("info"))?;
    let mut list = String::new();
    for a in &alternates {
        let a = a.canonicalize().unwrap_or_else(|_| a.clone());
        list.push_str(&a.to_string_lossy());
        list.push('\n');
    }
    std::fs::write(scratch.join("info/alternates"), list)?;
    let store = gix::odb::Store::at_opts(
        scratch.to_path_buf(),
        main.object_hash(),
        &mut std::iter::empty(),
        gix::odb::store::init::Options::default(),
    )
    .context("cannot open the quarantined objects")?;
    let mut sync = main.clone().into_sync();
    sync.objects = std::sync::Arc::new(store);
    Ok((sync, main, Some(quarantine)))
}

fn scan_push(
    config: &ScanConfig,
    policy: &HookPolicy,
    git_dir: &Path,
    updates: &[RefUpdate],
    scratch: &Path,
) -> anyhow::Result<Verdict> {
    let (shared, main, quarantine) = open_with_quarantine(git_dir, scratch)?;
    let quarantined = quarantine.is_some();
    let repo = shared.to_thread_local();
    let mut verdict = Verdict {
        complete: true,
        ..Verdict::default()
    };
    let options = push_options();
    if options.iter().any(|o| o == SKIP_PUSH_OPTION) {
        if policy.allow_bypass {
            verdict.bypassed = updates.iter().map(|u| u.name.clone()).collect();
            verdict.bypass_reason = Some(format!("push option {SKIP_PUSH_OPTION}"));
            return Ok(verdict);
        }
        verdict.warnings.push(format!(
            "push option {SKIP_PUSH_OPTION} ignored: this server does not allow bypassing the scan"
        ));
    }
    let mut tips = Vec::new();
    let (mut tags, mut content_refs) = (Vec::new(), Vec::new());
    for u in updates.iter().filter(|u| !u.is_deletion()) {
        let id = gix::ObjectId::from_hex(u.new.as_bytes())
            .with_context(|| format!("{}: bad object id", u.name))?;
        let peeled = messages::peel(&repo, id).map_err(anyhow::Error::msg)?;
        let pushed_tags = peeled.tags.iter().map(|&id| messages::TagObject {
            ref_name: u.name.clone(),
            id,
        });
        if peeled.kind != gix::objs::Kind::Commit {
            // A tag of a tree or a blob carries content without history: that content
            // is scanned (`source::ref_content`).
            tags.extend(pushed_tags);
            content_refs.push(ContentRef {
                ref_name: u.name.clone(),
                target: peeled.target,
                kind: peeled.kind,
            });
            continue;
        }
        let commit = peeled.target;
        if policy.allow_bypass && tip_message_has_marker(&repo, commit) {
            verdict.bypassed.push(u.name.clone());
            verdict.bypass_reason = Some(format!("{SKIP_MESSAGE_MARKER} in the commit message"));
            continue;
        }
        tags.extend(pushed_tags);
        tips.push(commit);
    }
    // Git keeps every object of an accepted push's pack, whether a ref reaches it or
    // not, and a later push that names it would find it already on the server. So every
    // object the quarantine holds is this push's to answer for: its commits are walked
    // like pushed tips, its tags' messages read, and blobs nothing reaches scanned as
    // they are (unless a bypassed ref carried them).
    let mut loose_blobs = Vec::new();
    if let (Some(q), true) = (&quarantine, verdict.bypassed.is_empty()) {
        let (commits, tag_ids, blobs) = quarantine_objects(&repo, q, &mut verdict)?;
        let pushed: std::collections::HashSet<gix::ObjectId> = tips.iter().copied().collect();
        tips.extend(commits.into_iter().filter(|c| !pushed.contains(c)));
        tags.extend(tag_ids.into_iter().map(|id| messages::TagObject {
            ref_name: "(unreferenced tag)".into(),
            id,
        }));
        loose_blobs = blobs;
    }
    if tips.is_empty() && tags.is_empty() && content_refs.is_empty() && loose_blobs.is_empty() {
        return Ok(verdict);
    }
    // With a quarantine, every object outside it was there before the push. Without one
    // (an old Git, or the hook run by hand), the history of every existing ref is.
    let config = ScanConfig {
        max_file_size: policy.max_file_size,
        ..config.clone()
    };
    // The rules load while the pushed history is read.
    let (engine, plan) = std::thread::scope(|s| {
        let engine = s.spawn(|| crate::scan::build_engine(&config));
        let known = |id: &gix::ObjectId| main.has_object(id);
        let plan = if quarantined {
            git::plan_push(&shared, &tips, &[], &known, &known, PUSH_CACHE_PER_THREAD)
        } else {
            // Problems with existing refs only shrink the boundary: more is scanned.
            let existing = git::ref_tips(&repo, &mut HistoryPlan::default()).unwrap_or_default();
            let nothing = |_: &gix::ObjectId| false;
            git::plan_push(
                &shared,
                &tips,
                &existing,
                &nothing,
                &nothing,
                PUSH_CACHE_PER_THREAD,
            )
        };
        (engine.join().expect("rule loading does not panic"), plan)
    });
    let engine = engine?;
    verdict.warnings.extend(plan.warnings.iter().cloned());
    verdict.complete &= plan.complete;
    let scanned = scan_pushed_blobs(&config, &engine, &shared, &plan, policy.inline_allow);
    verdict.complete &= scanned.complete;
    verdict.warnings.extend(scanned.warnings);
    let known = |id: &gix::ObjectId| quarantined && main.has_object(id);
    let texts = messages::scan_push_texts(
        &shared,
        &plan,
        &tags,
        &content_refs,
        &known,
        &engine,
        &config,
    );
    verdict.complete &= texts.complete() && texts.too_large.is_empty();
    verdict.warnings.extend(texts.warnings);
    verdict.warnings.extend(texts.too_large);
    let mut findings = scanned.findings;
    let mut inline_allowed = scanned.inline_allowed;
    if !loose_blobs.is_empty() {
        // What the ref-walk and the refs to trees and blobs already scan.
        let mut covered = crate::source::ref_content::blob_ids(&repo, &content_refs);
        covered.extend(plan.blobs.iter().map(|b| b.id));
        let mut extra = HistoryPlan::default();
        extra.complete = true;
        for id in loose_blobs.into_iter().filter(|id| !covered.contains(id)) {
            extra.paths.push(format!("unreferenced/{id}"));
            extra.blobs.push(git::BlobRecord {
                id,
                commit: None,
                path: extra.paths.len() as u32 - 1,
                introductions: 1,
                previous: None,
            });
        }
        let loose = scan_pushed_blobs(&config, &engine, &shared, &extra, policy.inline_allow);
        verdict.complete &= loose.complete;
        verdict.warnings.extend(loose.warnings);
        findings.extend(loose.findings);
        inline_allowed.extend(loose.inline_allowed);
    }
    let collector = crate::scan::Collector::default();
    for report in texts.reports {
        let mut report = report.with_markers(policy.inline_allow);
        inline_allowed.append(&mut report.inline_allowed);
        collector.add(report);
    }
    findings.extend(collector.finish(&config));
    crate::scan::sort_findings(&mut findings);
    (verdict.notes, verdict.findings) = findings
        .into_iter()
        .filter(|f| f.confidence >= policy.min_confidence)
        .partition(|f| f.secret.is_empty());
    verdict.inline_allowed = inline_allowed
        .into_iter()
        .filter(|f| f.confidence >= policy.min_confidence && !f.secret.is_empty())
        .collect();
    Ok(verdict)
}

/// The commits, tags and blobs of the quarantine directory (what this push brought),
/// found by listing it, not by walking from the pushed refs.
fn quarantine_objects(
    repo: &gix::Repository,
    quarantine: &Path,
    verdict: &mut Verdict,
) -> anyhow::Result<QuarantineObjects> {
    use gix::objs::FindHeader as _;
    let store = gix::odb::Store::at_opts(
        quarantine.to_path_buf(),
        repo.object_hash(),
        &mut std::iter::empty(),
        gix::odb::store::init::Options::default(),
    )
    .context("cannot open the quarantined objects")?;
    let (mut commits, mut tags, mut blobs) = (Vec::new(), Vec::new(), Vec::new());
    let ids = store
        .iter()
        .context("cannot list the quarantined objects")?;
    for id in ids {
        let id = match id {
            Ok(id) => id,
            Err(e) => {
                verdict
                    .warnings
                    .push(format!("cannot list the quarantined objects: {e}"));
                verdict.complete = false;
                continue;
            }
        };
        match repo.objects.try_header(&id) {
            Ok(Some(h)) => match h.kind {
                gix::objs::Kind::Commit => commits.push(id),
                gix::objs::Kind::Tag => tags.push(id),
                gix::objs::Kind::Blob => blobs.push(id),
                gix::objs::Kind::Tree => {}
            },
            Ok(None) => {}
            Err(e) => {
                verdict
                    .warnings
                    .push(format!("cannot read object {id}: {e}"));
                verdict.complete = false;
            }
        }
    }
    Ok((commits, tags, blobs))
}

type QuarantineObjects = (Vec<gix::ObjectId>, Vec<gix::ObjectId>, Vec<gix::ObjectId>);

fn tip_message_has_marker(repo: &gix::Repository, commit: gix::ObjectId) -> bool {
    repo.find_commit(commit)
        .ok()
        .and_then(|c| c.message_raw().ok().map(|m| m.to_string()))
        .is_some_and(|m| m.contains(SKIP_MESSAGE_MARKER))
}

/// A worker's repository handle and its buffers for the new and the previous blob.
type PushWorker = std::cell::RefCell<(gix::Repository, Vec<u8>, Vec<u8>)>;

/// Tree and delta caches per worker thread for a push.
const PUSH_CACHE_PER_THREAD: usize = 8 << 20;

/// What scanning a push's blobs gave.
struct PushScan {
    findings: Vec<Finding>,
    /// Findings `tollgate:allow` markers suppressed (none when markers do not count).
    inline_allowed: Vec<Finding>,
    warnings: Vec<String>,
    /// False when a pushed text could not be read or was too large to scan.
    complete: bool,
}

/// One blob's outcome.
enum BlobOutcome {
    Scanned(Box<crate::scan::BlobReport>),
    NotScanned(String),
}

/// Scan the blobs a push introduces, in parallel. In a modified file only lines the
/// commit added count (`crate::added_lines`; a merge's lines are compared with every
/// parent's), so that a secret that was in the file before does not block the push. An
/// earlier version that the push itself brought is scanned in its turn (or, when it
/// cannot be, leaves the push not fully scanned, which `tollgate.onError` decides), so
/// every line new to the server is judged, at the commit that added it.
fn scan_pushed_blobs(
    config: &ScanConfig,
    engine: &Engine,
    shared: &gix::ThreadSafeRepository,
    plan: &HistoryPlan,
    inline_allow: bool,
) -> PushScan {
    use rayon::prelude::*;
    let scratches = ScratchPool::default();
    let handles: thread_local::ThreadLocal<PushWorker> = thread_local::ThreadLocal::new();
    let outcomes: Vec<BlobOutcome> = plan
        .blobs
        .par_iter()
        .flat_map_iter(|blob| {
            let path = &plan.paths[blob.path as usize];
            let cell = handles.get_or(|| {
                std::cell::RefCell::new((
                    git::thread_handle(shared, PUSH_CACHE_PER_THREAD),
                    Vec::new(),
                    Vec::new(),
                ))
            });
            let (repo, buffer, old_buffer) = &mut *cell.borrow_mut();
            let data = match git::read_blob(repo, &blob.id, config.max_file_size, buffer) {
                BlobRead::Data(d) => d,
                BlobRead::TooLarge(size) => {
                    return vec![BlobOutcome::NotScanned(format!(
                        "{path} ({size} bytes) not scanned: over tollgate.maxFileSize"
                    ))]
                }
                BlobRead::Missing => {
                    return vec![BlobOutcome::NotScanned(format!(
                        "missing blob {} ({path})",
                        blob.id
                    ))]
                }
                BlobRead::Error(e) => {
                    return vec![BlobOutcome::NotScanned(format!(
                        "cannot read blob {} ({path}): {e}",
                        blob.id
                    ))]
                }
            };
            let provenance = Provenance {
                path: path.clone(),
                rel_path: path.clone(),
                git: Some(plan.git_context(blob)),
            };
            // A binary credential store (a PKCS#12 file) is judged as a file.
            if let Some(report) = crate::scan::scan_whole_file_store(data, &provenance, config) {
                return vec![BlobOutcome::Scanned(Box::new(report))];
            }
            // Other binary blobs (by git's rule) and whole LFS pointers hold no text to judge.
            let Sniffed::Text(views) = sniff(data) else {
                return Vec::new();
            };
            let scan = |data: &[u8]| {
                scratches
                    .with(|s| scan_blob(engine, data, &provenance, config, s))
                    .with_markers(inline_allow)
            };
            let previous = plan.previous_blobs(blob);
            let mut outcomes = Vec::new();
            for view in &views {
                let data = &view.text;
                let mut report = scan(data);
                if report.findings.is_empty()
                    && report.facts.is_empty()
                    && report.inline_allowed.is_empty()
                {
                    continue;
                }
                added_lines::keep_added_against(
                    repo,
                    &previous,
                    data,
                    config.max_file_size,
                    old_buffer,
                    &mut report,
                    &scan,
                );
                outcomes.push(BlobOutcome::Scanned(Box::new(report)));
            }
            outcomes
        })
        .collect();
    let mut scan = PushScan {
        findings: Vec::new(),
        inline_allowed: Vec::new(),
        warnings: Vec::new(),
        complete: true,
    };
    let collector = crate::scan::Collector::default();
    for outcome in outcomes {
        match outcome {
            BlobOutcome::Scanned(mut report) => {
                scan.inline_allowed.append(&mut report.inline_allowed);
                collector.add(*report);
            }
            BlobOutcome::NotScanned(why) => {
                scan.warnings.push(why);
                scan.complete = false;
            }
        }
    }
    scan.findings = collector.finish(config);
    scan
}

/// Where `hook install` puts the hook.
#[derive(Debug, Clone)]
pub enum HookTarget {
    /// `hooks/pre-receive` of a repository (bare or not).
    Repository(PathBuf),
    /// A GitLab server-hooks directory: `DIR/pre-receive.d/tollgate`.
    GitLab(PathBuf),
    /// A Gitea or Forgejo repository: `hooks/pre-receive.d/tollgate`.
    Gitea(PathBuf),
}

impl HookTarget {
    fn file(&self) -> anyhow::Result<PathBuf> {
        Ok(match self {
            HookTarget::Repository(repo) => hooks_dir_of(repo)?.join("pre-receive"),
            HookTarget::GitLab(dir) => dir.join("pre-receive.d").join("tollgate"),
            HookTarget::Gitea(repo) => git_dir_of(repo)?
                .join("hooks")
                .join("pre-receive.d")
                .join("tollgate"),
        })
    }
}

/// The repository's shared git directory (for a linked worktree, the main one's).
fn git_dir_of(repo: &Path) -> anyhow::Result<PathBuf> {
    let r = gix::open(repo)
        .map_err(|e| anyhow::anyhow!("{}: not a git repository ({e})", repo.display()))?;
    Ok(r.common_dir().to_path_buf())
}

/// Where Git looks for the repository's hooks: `core.hooksPath` if set (relative to the
/// work tree, or to the git directory of a bare repository), else `hooks/`.
fn hooks_dir_of(repo: &Path) -> anyhow::Result<PathBuf> {
    let r = gix::open(repo)
        .map_err(|e| anyhow::anyhow!("{}: not a git repository ({e})", repo.display()))?;
    let configured = r
        .config_snapshot()
        .string("core.hooksPath")
        .map(|v| PathBuf::from(v.to_string()));
    Ok(match configured {
        Some(p) if p.is_absolute() => p,
        Some(p) => r.workdir().unwrap_or_else(|| r.common_dir()).join(p),
        None => r.common_dir().join("hooks"),
    })
}

fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .is_ok_and(|t| t.lines().nth(1).is_some_and(|l| l.starts_with(HOOK_MARKER)))
}

/// Write the hook file; an existing hook that is not tollgate's is left alone.
pub fn install(target: &HookTarget) -> anyhow::Result<PathBuf> {
    let file = target.file()?;
    if file.exists() && !is_ours(&file) {
        anyhow::bail!(
            "{} exists and is not tollgate's: add `{} pre-receive` to it (it reads the same stdin), or move it into a pre-receive.d directory if your server runs one",
            file.display(),
            current_exe()?.display()
        );
    }
    let exe = current_exe()?;
    let quoted = exe.to_string_lossy().replace('\'', r"'\''");
    let script = format!(
        "#!/bin/sh\n{HOOK_MARKER}: written by `tollgate hook install`, removed by `tollgate hook uninstall`.\nexec '{quoted}' pre-receive\n"
    );
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&file, script).with_context(|| format!("cannot write {}", file.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", file.display()))?;
    }
    Ok(file)
}

/// Remove the hook file if tollgate wrote it.
pub fn uninstall(target: &HookTarget) -> anyhow::Result<Option<PathBuf>> {
    let file = target.file()?;
    if !file.exists() {
        return Ok(None);
    }
    if !is_ours(&file) {
        anyhow::bail!("{} is not tollgate's hook: left alone", file.display());
    }
    std::fs::remove_file(&file).with_context(|| format!("cannot remove {}", file.display()))?;
    Ok(Some(file))
}

fn current_exe() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the tollgate binary")?;
    Ok(exe.canonicalize().unwrap_or(exe))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_parse_and_bad_input_is_an_error() {
        let z = "0".repeat(40);
        let a = "a".repeat(40);
        let u = parse_updates(&format!("{z} {a} refs/heads/main\n{a} {z} refs/tags/v1\n")).unwrap();
        assert_eq!(u.len(), 2);
        assert!(!u[0].is_deletion());
        assert!(u[1].is_deletion());
        let sha256 = format!("{} {} refs/heads/x\n", "0".repeat(64), "b".repeat(64));
        assert_eq!(parse_updates(&sha256).unwrap().len(), 1);
        assert!(parse_updates("garbage\n").is_err());
        assert!(parse_updates(&format!("{z} {} refs/heads/x", "b".repeat(64))).is_err());
    }

    #[test]
    fn durations_and_outcomes_parse() {
        assert_eq!(parse_duration("4"), Some(Duration::from_secs(4)));
        assert_eq!(parse_duration("1500ms"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("0"), None);
        assert_eq!(parse_outcome("Reject"), Some(Outcome::Reject));
        assert_eq!(parse_outcome("open"), Some(Outcome::Accept));
        assert_eq!(parse_outcome("maybe"), None);
    }
}
