//! The command line: parse flags once, validate them into a `ScanConfig`, pick a source
//! and a report, and map the outcome to an exit code. Library code never sees clap.

mod args;

pub use args::parse_size;

use std::fs::File;
use std::io::{self, IsTerminal, Write};

use anyhow::Context as _;
use clap::Parser;
use termcolor::{ColorChoice, NoColor, StandardStream, WriteColor};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use args::{
    BaselineCommand, BaselineScan, Cli, ColorArg, Command, ConfigCommand, DirArgs, FormatArg,
    GitArgs, HookCommand, HookTargetArgs, OutputArgs, RuleArgs, RulesCommand, ScanArgs, StagedArgs,
};

use crate::baseline::{self, Baseline, Coverage};
use crate::config::{self, RepoConfig};
use crate::credfiles;
use crate::engine::check::check_rules;
use crate::engine::decode::DecodeLimits;
use crate::engine::rule::{load_rule_file, rule_files_in};
use crate::engine::{EngineOptions, Rule, RuleSelection};
use crate::finding::Confidence;
use crate::k8s::{self, checks::check_index};
use crate::report::Format;
use crate::scan::{self, ScanConfig, ScanOutcome};
use crate::source::git::HistoryOptions;

/// Parse the process's arguments and run; returns the exit code.
pub fn run() -> anyhow::Result<u8> {
    let cli = Cli::parse();
    match cli.command {
        Command::Dir(args) => run_dir(args),
        Command::Git(args) => run_git(args),
        Command::Staged(args) => run_staged(args),
        Command::PreReceive(args) => {
            let config = ScanConfig {
                rules: rule_selection(&args.rules),
                k8s: k8s_selection(&args.rules)?,
                credfiles: credfile_selection(&args.rules),
                progress: false,
                ..ScanConfig::default()
            };
            Ok(crate::hook::run_pre_receive(&config, args.repo.as_deref()))
        }
        Command::Hook(HookCommand::Install(target)) => {
            let file = crate::hook::install(&hook_target(target))?;
            println!("installed {}", shown(file.display()));
            Ok(0)
        }
        Command::Hook(HookCommand::Uninstall(target)) => {
            match crate::hook::uninstall(&hook_target(target))? {
                Some(file) => println!("removed {}", shown(file.display())),
                None => println!("no tollgate hook installed there"),
            }
            Ok(0)
        }
        Command::Rules(RulesCommand::List { rules, json }) => list_rules(&rules, json),
        Command::Rules(RulesCommand::Check { files, rules }) => check(&files, &rules),
        Command::Baseline(command) => run_baseline(command),
        Command::Config(ConfigCommand::Check { file, rules }) => check_config(file, &rules),
    }
}

/// Text from outside (a path, a rule file, a baseline entry) as a terminal may show it.
fn shown(text: impl std::fmt::Display) -> String {
    crate::snippet::escaped(&text.to_string())
}

/// An error and its causes on one line, safe to print: causes quote paths, revisions and
/// the content of rule and config files.
pub fn error_message(err: &anyhow::Error) -> String {
    shown(format!("{err:#}"))
}

/// A closed stdout (e.g. `tollgate dir | head`) is not an error.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn hook_target(args: HookTargetArgs) -> crate::hook::HookTarget {
    use crate::hook::HookTarget;
    match (args.bare, args.gitlab_dir, args.gitea) {
        (_, Some(dir), _) => HookTarget::GitLab(dir),
        (_, _, Some(repo)) => HookTarget::Gitea(repo),
        (Some(repo), _, _) => HookTarget::Repository(repo),
        (None, None, None) => HookTarget::Repository(".".into()),
    }
}

/// Regex rules and manifest checks share the rule flags; each takes the ids it owns.
fn rule_selection(args: &RuleArgs) -> RuleSelection {
    let regex = |ids: &[String]| -> Vec<String> {
        ids.iter().filter(|id| !is_check(id)).cloned().collect()
    };
    let only = regex(&args.only);
    RuleSelection {
        builtin: !args.no_builtin_rules,
        extra_paths: args.rule_paths.clone(),
        disabled: regex(&args.disable),
        // `--only-rule` naming checks alone still loads the rules (for context), and
        // `k8s_selection` keeps their findings out.
        only,
    }
}

/// A manifest check's or a credential file's id, not a regex rule's.
fn is_check(id: &str) -> bool {
    check_index(id).is_some() || credfiles::check_index(id).is_some()
}

fn credfile_selection(args: &RuleArgs) -> credfiles::Selection {
    if args.no_builtin_rules {
        credfiles::Selection::none()
    } else {
        credfiles::Selection::new(&args.disable, &args.only)
    }
}

fn k8s_selection(args: &RuleArgs) -> anyhow::Result<k8s::Selection> {
    if let Some(id) = args.enable.iter().find(|id| check_index(id).is_none()) {
        anyhow::bail!(
            "--enable-rule {id}: not a check that is off by default (see `tollgate rules list`)"
        );
    }
    let mut selection = k8s::Selection::new(&args.disable, &args.only, &args.enable);
    if args.no_builtin_rules {
        selection = k8s::Selection::new(
            &k8s::checks::CHECKS
                .iter()
                .map(|c| c.id.to_string())
                .collect::<Vec<_>>(),
            &[],
            &args.enable,
        );
    }
    Ok(selection)
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// What a scan does with a baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BaselineUse {
    /// Suppress the findings it has (`--baseline`, or the config's `baseline`).
    Apply,
    /// Report everything: the scan is making a baseline.
    Ignore,
}

/// The config file for a scan whose root is `root`: `--config FILE`, else `.tollgate.yaml`
/// there, unless `--no-config`. Every rule id it names must exist.
fn repo_config(
    scan: &ScanArgs,
    rules: &RuleArgs,
    root: &Path,
) -> anyhow::Result<Option<RepoConfig>> {
    if scan.no_config {
        return Ok(None);
    }
    let Some(found) = config::find(scan.config.as_deref(), root)? else {
        return Ok(None);
    };
    check_config_rule_ids(&found, rules)?;
    Ok(Some(found))
}

/// Rule ids in a config must name a rule or check that exists (with the config's own rule
/// files and `--rules` loaded); `enable-rules` must name a check.
fn check_config_rule_ids(found: &RepoConfig, rules: &RuleArgs) -> anyhow::Result<()> {
    let known = RuleSelection {
        builtin: !rules.no_builtin_rules,
        extra_paths: rules
            .rule_paths
            .iter()
            .chain(&found.rules)
            .cloned()
            .collect(),
        disabled: Vec::new(),
        only: Vec::new(),
    }
    .load()
    .with_context(|| format!("cannot check the rule ids in {}", found.file.display()))?;
    found.check_rule_ids(&|id| is_check(id) || known.iter().any(|r| r.id() == id))?;
    if let Some((id, _)) = found
        .rule_settings
        .iter()
        .find(|(id, s)| s.min_entropy.is_some() && is_check(&id.value))
    {
        anyhow::bail!(
            "{}:{}: `rule-settings.{}`: `min-entropy` applies to regex rules, not to Kubernetes or credential-file checks",
            found.file.display(),
            id.line,
            id.value
        );
    }
    if let Some(id) = found
        .enable_rules
        .iter()
        .find(|id| check_index(&id.value).is_none())
    {
        anyhow::bail!(
            "{}:{}: `enable-rules`: `{}` is not a check that is off by default",
            found.file.display(),
            id.line,
            id.value
        );
    }
    Ok(())
}

/// The rule flags with a config's rule files and rule lists added.
fn with_config_rules(rules: &RuleArgs, found: Option<&RepoConfig>) -> RuleArgs {
    let Some(c) = found else {
        return rules.clone();
    };
    let ids =
        |list: &[config::At<String>]| list.iter().map(|a| a.value.clone()).collect::<Vec<_>>();
    let mut merged = rules.clone();
    merged.rule_paths.extend(c.rules.iter().cloned());
    merged.disable.extend(ids(&c.disable_rules));
    merged.enable.extend(ids(&c.enable_rules));
    merged
}

/// The validated form of a scan's flags and its config file; flags win over the file.
fn scan_config(
    scan: &ScanArgs,
    rules: &RuleArgs,
    output: &OutputArgs,
    root: &Path,
    baseline_use: BaselineUse,
) -> anyhow::Result<ScanConfig> {
    let found = repo_config(scan, rules, root)?;
    if let (Some(c), true) = (&found, output.verbose) {
        eprintln!("tollgate: config {}", shown(c.file.display()));
    }
    let rules = with_config_rules(rules, found.as_ref());
    let baseline = match (baseline_use, &scan.baseline) {
        (BaselineUse::Ignore, _) => None,
        (BaselineUse::Apply, Some(file)) => Some(file.clone()),
        (BaselineUse::Apply, None) => found.as_ref().and_then(|c| c.baseline.clone()),
    };
    Ok(ScanConfig {
        rules: rule_selection(&rules),
        engine: EngineOptions {
            decode_depth: scan.decode_depth,
            decode_limits: DecodeLimits {
                max_span: usize::try_from(scan.max_decode_size).unwrap_or(usize::MAX),
                ..DecodeLimits::default()
            },
            min_confidence: scan
                .min_confidence
                .or(found.as_ref().and_then(|c| c.min_confidence))
                .unwrap_or(Confidence::Low),
            explain: scan.explain,
        },
        redact: !output.no_redact,
        max_file_size: scan
            .max_file_size
            .or(found.as_ref().and_then(|c| c.max_file_size))
            .unwrap_or(scan::DEFAULT_MAX_FILE_SIZE),
        follow_symlinks: false,
        progress: !output.no_progress && !in_ci() && io::stderr().is_terminal(),
        verbose: output.verbose,
        k8s: k8s_selection(&rules)?,
        credfiles: credfile_selection(&rules),
        filters: Arc::new(found.as_ref().map(RepoConfig::filters).unwrap_or_default()),
        baseline: baseline
            .map(|file| Baseline::load(&file).map(Arc::new))
            .transpose()?,
    })
}

/// Where `dir` looks for its config: the first path, or the directory of a file.
fn dir_root(paths: &[PathBuf]) -> PathBuf {
    let first = paths.first().cloned().unwrap_or_else(|| ".".into());
    if first.is_dir() {
        first
    } else {
        match first.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => ".".into(),
        }
    }
}

/// Where `git` looks for its config: the work tree's root (a bare repository has none;
/// give it `--config`).
fn git_root(repo: &Path) -> PathBuf {
    crate::source::git::open(repo)
        .ok()
        .and_then(|r| r.work_dir().map(Path::to_path_buf))
        .unwrap_or_else(|| repo.to_path_buf())
}

/// Size the global rayon pool; returns the number of workers.
fn start_workers(threads: Option<usize>) -> anyhow::Result<usize> {
    if let Some(n) = threads {
        anyhow::ensure!(
            (1..=MAX_THREADS).contains(&n),
            "--threads must be between 1 and {MAX_THREADS}"
        );
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("cannot start the worker threads")?;
    }
    Ok(rayon::current_num_threads())
}

fn dir_config(args: &DirArgs, baseline_use: BaselineUse) -> anyhow::Result<ScanConfig> {
    Ok(ScanConfig {
        follow_symlinks: args.follow_symlinks,
        ..scan_config(
            &args.scan,
            &args.rules,
            &args.output,
            &dir_root(&args.paths),
            baseline_use,
        )?
    })
}

fn run_dir(args: DirArgs) -> anyhow::Result<u8> {
    let config = dir_config(&args, BaselineUse::Apply)?;
    start_workers(args.scan.threads)?;
    // Open the report file first: a typo in `-o` should not cost a whole scan.
    let sink = open_output(&args.output)?;
    let outcome = scan::scan_dirs(&config, &args.paths)?;
    write_report(&outcome, &args.output, sink)?;
    Ok(exit_status(&outcome, args.output.exit_code))
}

/// 2 when part of what was asked could not be read (an object of the history, a file or
/// directory of a tree; findings are still printed, but the audit is not a clean bill),
/// else `exit_code` for findings, else 0.
fn exit_status(outcome: &ScanOutcome, exit_code: u8) -> u8 {
    let s = &outcome.summary;
    if s.history.as_ref().is_some_and(|h| !h.complete) || s.skipped.unreadable > 0 {
        2
    } else if !outcome.findings.is_empty() {
        exit_code
    } else if s.roots_unscanned > 0 {
        // A path the user named could not be scanned at all: nothing found is not clean.
        2
    } else {
        0
    }
}

fn git_config(args: &GitArgs, baseline_use: BaselineUse) -> anyhow::Result<ScanConfig> {
    scan_config(
        &args.scan,
        &args.rules,
        &args.output,
        &git_root(&args.repo),
        baseline_use,
    )
}

fn run_git(args: GitArgs) -> anyhow::Result<u8> {
    let config = git_config(&args, BaselineUse::Apply)?;
    let sink = open_output(&args.output)?;
    let outcome = scan_history(&args, &config)?;
    write_report(&outcome, &args.output, sink)?;
    Ok(exit_status(&outcome, args.output.exit_code))
}

fn scan_history(args: &GitArgs, config: &ScanConfig) -> anyhow::Result<ScanOutcome> {
    let workers = start_workers(args.scan.threads)?;
    let mut revisions = args.revisions.clone();
    revisions.extend(args.branches.iter().cloned());
    if let Some(range) = &args.range {
        anyhow::ensure!(
            range.contains(".."),
            "--range takes BASE..HEAD (got `{range}`)"
        );
        revisions.push(range.clone());
    }
    // One share per worker, plus one for the thread that reads the history first.
    let cache_per_thread = usize::try_from(args.memory_budget / (workers as u64 + 1))
        .unwrap_or(usize::MAX)
        .max(1 << 20);
    let options = HistoryOptions {
        revisions,
        unreachable: args.unreachable,
        cache_per_thread,
        filters: config.filters.clone(),
        added_lines_only: !args.all_lines,
    };
    let mut outcome = scan::scan_git(config, &args.repo, &options)?;
    if !options.revisions.is_empty() {
        not_whole(&mut outcome);
    }
    Ok(outcome)
}

/// A scan of part of the repository (some revisions, a range, the staged changes) cannot
/// tell whether a baseline entry elsewhere is stale.
fn not_whole(outcome: &mut ScanOutcome) {
    outcome.stale.clear();
    outcome.summary.baseline_stale = 0;
}

/// `baseline create` and `baseline prune`.
fn run_baseline(command: BaselineCommand) -> anyhow::Result<u8> {
    let (creating, job) = match command {
        BaselineCommand::Create { scan } => (true, scan),
        BaselineCommand::Prune { scan } => (false, scan),
    };
    let (scan_args, output) = match &job {
        BaselineScan::Dir(a) => (&a.scan, &a.output),
        BaselineScan::Git(a) => (&a.scan, &a.output),
    };
    anyhow::ensure!(
        output.format == FormatArg::Human,
        "--format: a baseline command writes a baseline file, not a report"
    );
    if let (false, BaselineScan::Git(a)) = (creating, &job) {
        anyhow::ensure!(
            a.revisions.is_empty() && a.branches.is_empty() && a.range.is_none(),
            "baseline prune needs the whole history: without revisions, --branch or --range \
             it cannot tell a fixed finding from one outside the scan"
        );
    }
    let (mut config, root) = match &job {
        BaselineScan::Dir(a) => (dir_config(a, BaselineUse::Ignore)?, dir_root(&a.paths)),
        BaselineScan::Git(a) => (git_config(a, BaselineUse::Ignore)?, git_root(&a.repo)),
    };
    // The baseline: `--baseline`, else the config's, else the default file.
    let configured = match scan_args.no_config {
        true => None,
        false => config::find(scan_args.config.as_deref(), &root)?.and_then(|c| c.baseline),
    };
    let current = scan_args
        .baseline
        .clone()
        .or(configured)
        .unwrap_or_else(|| baseline::DEFAULT_FILE.into());
    // Creating reports everything; pruning applies the baseline to learn what is stale.
    if !creating {
        config.baseline = Some(Arc::new(Baseline::load(&current)?));
    }
    let file = output.output.clone().unwrap_or_else(|| current.clone());
    let outcome = match &job {
        BaselineScan::Dir(a) => {
            start_workers(a.scan.threads)?;
            scan::scan_dirs(&config, &a.paths)?
        }
        BaselineScan::Git(a) => scan_history(a, &config)?,
    };
    let coverage = coverage(&outcome);
    if creating {
        let made = Baseline::of(&outcome.findings);
        made.save(&file)?;
        println!(
            "baseline: {} findings, {} fingerprints, written to {}",
            outcome.findings.len(),
            made.findings.len(),
            shown(file.display())
        );
        println!(
            "use it with `--baseline {}`, or `baseline: ...` in .tollgate.yaml",
            shown(file.display())
        );
        // Written all the same: a baseline that misses a finding only makes later scans
        // report it, never hides one. The exit status says it is not the whole story.
        if coverage == Coverage::Incomplete {
            eprintln!(
                "tollgate: warning: the scan was not complete (see the warnings above): the \
                 baseline holds only the findings in what could be read; findings in the rest \
                 will be reported as new once it can be read"
            );
            return Ok(2);
        }
        return Ok(0);
    }
    // Pruning loaded the baseline before the scan.
    let loaded = config.baseline.as_ref().expect("prune loads the baseline");
    let pruned = loaded.pruned(&outcome.stale, coverage)?;
    for e in &outcome.stale {
        // The entries come from a file anyone can edit.
        println!(
            "stale  {}  {}  {}",
            shown(&e.path),
            shown(&e.rule_id),
            shown(&e.fingerprint)
        );
    }
    pruned.save(&file)?;
    println!(
        "baseline: {} stale entries removed, {} kept, written to {}",
        outcome.stale.len(),
        pruned.findings.len(),
        shown(file.display())
    );
    Ok(0)
}

/// Whether a scan read everything it was asked to: every object of the history, every
/// path named, every file found.
fn coverage(outcome: &ScanOutcome) -> Coverage {
    let s = &outcome.summary;
    let history_incomplete = s.history.as_ref().is_some_and(|h| !h.complete);
    if history_incomplete || s.roots_unscanned > 0 || s.skipped.unreadable > 0 {
        Coverage::Incomplete
    } else {
        Coverage::Complete
    }
}

/// `tollgate config check [FILE]`: read the file as a scan would, and say what it sets.
fn check_config(file: Option<PathBuf>, rules: &RuleArgs) -> anyhow::Result<u8> {
    let file = file.unwrap_or_else(|| config::FILE_NAME.into());
    let found = match RepoConfig::load(&file)
        .map_err(anyhow::Error::from)
        .and_then(|c| check_config_rule_ids(&c, rules).map(|()| c))
    {
        Ok(found) => found,
        Err(e) => {
            eprintln!("{}", error_message(&e));
            return Ok(1);
        }
    };
    if let Some(b) = &found.baseline {
        if let Err(e) = Baseline::load(b) {
            eprintln!(
                "{}: `baseline`: {}",
                shown(file.display()),
                error_message(&e)
            );
            return Ok(1);
        }
    }
    println!(
        "{}: valid ({} rule files, {} rules disabled, {} checks enabled, {} path patterns, {} secret patterns, {} rule settings{})",
        shown(file.display()),
        found.rules.len(),
        found.disable_rules.len(),
        found.enable_rules.len(),
        found.allow_paths.len(),
        found.allow_secrets.len(),
        found.rule_settings.len(),
        found
            .baseline
            .as_ref()
            .map(|b| format!(", baseline {}", shown(b.display())))
            .unwrap_or_default()
    );
    Ok(0)
}

fn run_staged(args: StagedArgs) -> anyhow::Result<u8> {
    let config = scan_config(
        &args.scan,
        &args.rules,
        &args.output,
        &git_root(&args.repo),
        BaselineUse::Apply,
    )?;
    start_workers(args.scan.threads)?;
    let sink = open_output(&args.output)?;
    let mut outcome = crate::staged::scan_staged(&config, &args.repo, !args.all_lines)?;
    not_whole(&mut outcome);
    write_report(&outcome, &args.output, sink)?;
    Ok(if outcome.summary.skipped.unreadable > 0 {
        // A staged file that could not be read: nothing found is not a clean bill.
        2
    } else if !outcome.findings.is_empty() {
        args.output.exit_code
    } else {
        0
    })
}

/// More worker threads than this only cost memory.
const MAX_THREADS: usize = 256;

fn open_output(args: &OutputArgs) -> anyhow::Result<Box<dyn WriteColor>> {
    Ok(match &args.output {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
            Box::new(NoColor::new(io::BufWriter::new(file)))
        }
        None => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let choice = match args.color {
                ColorArg::Always => ColorChoice::Always,
                ColorArg::Never => ColorChoice::Never,
                ColorArg::Auto if io::stdout().is_terminal() && !no_color => ColorChoice::Auto,
                ColorArg::Auto => ColorChoice::Never,
            };
            Box::new(StandardStream::stdout(choice))
        }
    })
}

fn write_report(
    outcome: &ScanOutcome,
    args: &OutputArgs,
    mut out: Box<dyn WriteColor>,
) -> anyhow::Result<()> {
    let format = match args.format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Gitlab => Format::Gitlab,
        FormatArg::Junit => Format::Junit,
        FormatArg::Csv => Format::Csv,
    };
    let written = match (&outcome.explained, format) {
        (Some(explained), Format::Json) => crate::report::write_json_explained(
            &outcome.findings,
            &outcome.summary,
            explained,
            out.as_mut(),
        ),
        (explained, _) => {
            if let Some(explained) = explained {
                let mut err = StandardStream::stderr(ColorChoice::Never);
                crate::report::write_explained(explained, &mut err)?;
            }
            format
                .report()
                .write(&outcome.findings, &outcome.summary, out.as_mut())
        }
    }
    .and_then(|()| out.flush());
    match written {
        // A reader that hung up (`| head`) is not an error; the exit code still tells.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
        other => other?,
    }
    if args.output.is_some() && format != Format::Human {
        let mut err = StandardStream::stderr(ColorChoice::Never);
        crate::report::write_summary(&outcome.summary, &mut err)?;
    }
    Ok(())
}

fn list_rules(args: &RuleArgs, json: bool) -> anyhow::Result<u8> {
    let rules = rule_selection(args).load()?;
    let selection = k8s_selection(args)?;
    // Manifest checks are listed with the rules; one that is off says so.
    let checks: Vec<(&k8s::checks::Check, bool)> = k8s::checks::CHECKS
        .iter()
        .enumerate()
        .filter(|(_, c)| args.only.is_empty() || args.only.iter().any(|o| o == c.id))
        .map(|(i, c)| (c, selection.is_enabled(i)))
        .collect();
    let stores = credfile_selection(args);
    let credfile_checks: Vec<(&credfiles::Check, bool)> = credfiles::CHECKS
        .iter()
        .enumerate()
        .filter(|(_, c)| args.only.is_empty() || args.only.iter().any(|o| o == c.id))
        .map(|(i, c)| (c, stores.is_enabled(i)))
        .collect();
    let mut out = io::stdout().lock();
    if json {
        let mut list: Vec<_> = rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.spec.id,
                    "name": r.spec.name,
                    "confidence": r.spec.confidence,
                    "keywords": r.spec.keywords,
                    "checksum": r.spec.checksum.map(|c| c.name()),
                    "origin": r.origin.to_string(),
                })
            })
            .collect();
        list.extend(checks.iter().map(|(c, enabled)| {
            serde_json::json!({
                "id": c.id,
                "name": c.name,
                "confidence": c.confidence,
                "technique": c.technique.info(),
                "enabled": enabled,
                "origin": "builtin:kubernetes checks",
            })
        }));
        list.extend(credfile_checks.iter().map(|(c, enabled)| {
            serde_json::json!({
                "id": c.id,
                "name": c.name,
                "description": c.description,
                "confidence": credfiles::CONFIDENCE,
                "references": [c.reference],
                "enabled": enabled,
                "origin": "builtin:credential files",
            })
        }));
        crate::report::write_json(&mut out, &list, true)?;
        writeln!(out)?;
    } else {
        let width = rules
            .iter()
            .map(|r| r.spec.id.len())
            .chain(checks.iter().map(|(c, _)| c.id.len()))
            .chain(credfile_checks.iter().map(|(c, _)| c.id.len()))
            .max()
            .unwrap_or(0);
        for r in &rules {
            writeln!(
                out,
                "{:width$}  {:6}  {}",
                shown(&r.spec.id),
                r.spec.confidence.as_str(),
                shown(&r.spec.name)
            )?;
        }
        for (c, enabled) in &checks {
            let off = if *enabled {
                ""
            } else {
                " (off; --enable-rule)"
            };
            writeln!(
                out,
                "{:width$}  {:6}  {} [{}]{off}",
                c.id,
                c.confidence.as_str(),
                c.name,
                c.technique.id()
            )?;
        }
        for (c, enabled) in &credfile_checks {
            let off = if *enabled { "" } else { " (off)" };
            writeln!(
                out,
                "{:width$}  {:6}  {} <{}>{off}",
                c.id,
                credfiles::CONFIDENCE.as_str(),
                c.name,
                c.reference
            )?;
        }
        writeln!(
            out,
            "{} rules, {} Kubernetes checks, {} credential-file checks",
            rules.len(),
            checks.len(),
            credfile_checks.len()
        )?;
    }
    Ok(0)
}

fn check(files: &[std::path::PathBuf], args: &RuleArgs) -> anyhow::Result<u8> {
    let rules: Vec<Rule> = if files.is_empty() {
        rule_selection(args).load()?
    } else {
        let mut rules = Vec::new();
        for path in files {
            for file in rule_files_in(path)? {
                rules.extend(load_rule_file(&file)?);
            }
        }
        crate::engine::rule::check_unique(&rules)?;
        rules
    };
    let problems = check_rules(&rules);
    let mut err = io::stderr().lock();
    for p in &problems {
        writeln!(
            err,
            "{}: {}: {}",
            shown(&p.origin),
            shown(&p.rule_id),
            shown(&p.message)
        )?;
    }
    let examples: usize = rules
        .iter()
        .map(|r| r.spec.examples.len() + r.spec.negative_examples.len())
        .sum();
    if problems.is_empty() {
        println!("{} rules, {examples} examples: all pass", rules.len());
        Ok(0)
    } else {
        println!(
            "{} rules, {examples} examples: {} problems",
            rules.len(),
            problems.len()
        );
        Ok(1)
    }
}
