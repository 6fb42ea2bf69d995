//! The command line: parse flags once, validate them into a `ScanConfig`, pick a source
//! and a report, and map the outcome to an exit code. Library code never sees clap.

mod args;

pub use args::parse_size;

use std::fs::File;
use std::io::{self, IsTerminal, Write};

use anyhow::Context as _;
use clap::Parser;
use termcolor::{ColorChoice, NoColor, StandardStream, WriteColor};

use args::{
    Cli, ColorArg, Command, DirArgs, FormatArg, GitArgs, HookCommand, HookTargetArgs, OutputArgs,
    RuleArgs, RulesCommand, ScanArgs, StagedArgs,
};

use crate::engine::check::check_rules;
use crate::engine::decode::DecodeLimits;
use crate::engine::rule::{load_rule_file, rule_files_in};
use crate::engine::{EngineOptions, Rule, RuleSelection};
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
                progress: false,
                ..ScanConfig::default()
            };
            Ok(crate::hook::run_pre_receive(&config, args.repo.as_deref()))
        }
        Command::Hook(HookCommand::Install(target)) => {
            let file = crate::hook::install(&hook_target(target))?;
            println!("installed {}", file.display());
            Ok(0)
        }
        Command::Hook(HookCommand::Uninstall(target)) => {
            match crate::hook::uninstall(&hook_target(target))? {
                Some(file) => println!("removed {}", file.display()),
                None => println!("no tollgate hook installed there"),
            }
            Ok(0)
        }
        Command::Rules(RulesCommand::List { rules, json }) => list_rules(&rules, json),
        Command::Rules(RulesCommand::Check { files, rules }) => check(&files, &rules),
    }
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
        ids.iter()
            .filter(|id| check_index(id).is_none())
            .cloned()
            .collect()
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

fn scan_config(
    scan: &ScanArgs,
    rules: &RuleArgs,
    output: &OutputArgs,
) -> anyhow::Result<ScanConfig> {
    Ok(ScanConfig {
        rules: rule_selection(rules),
        engine: EngineOptions {
            decode_depth: scan.decode_depth,
            decode_limits: DecodeLimits {
                max_span: usize::try_from(scan.max_decode_size).unwrap_or(usize::MAX),
                ..DecodeLimits::default()
            },
            min_confidence: scan.min_confidence,
        },
        redact: !output.no_redact,
        max_file_size: scan.max_file_size,
        follow_symlinks: false,
        progress: !output.no_progress && !in_ci() && io::stderr().is_terminal(),
        verbose: output.verbose,
        k8s: k8s_selection(rules)?,
    })
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

fn run_dir(args: DirArgs) -> anyhow::Result<u8> {
    let config = ScanConfig {
        follow_symlinks: args.follow_symlinks,
        ..scan_config(&args.scan, &args.rules, &args.output)?
    };
    start_workers(args.scan.threads)?;
    // Open the report file first: a typo in `-o` should not cost a whole scan.
    let sink = open_output(&args.output)?;
    let outcome = scan::scan_dirs(&config, &args.paths)?;
    write_report(&outcome, &args.output, sink)?;
    Ok(if !outcome.findings.is_empty() {
        args.output.exit_code
    } else if outcome.summary.roots_unscanned > 0 {
        // A path the user named could not be scanned at all: nothing found is not clean.
        2
    } else {
        0
    })
}

fn run_git(args: GitArgs) -> anyhow::Result<u8> {
    let config = scan_config(&args.scan, &args.rules, &args.output)?;
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
        added_lines_only: match (args.added_lines_only, args.all_lines) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            // On for a range, off for an audit.
            _ => None,
        },
    };
    let sink = open_output(&args.output)?;
    let outcome = scan::scan_git(&config, &args.repo, &options)?;
    write_report(&outcome, &args.output, sink)?;
    let complete = outcome.summary.history.as_ref().is_none_or(|h| h.complete);
    Ok(if !complete {
        // Part of what was asked could not be read: findings are printed, but the audit
        // is not a clean bill.
        2
    } else if !outcome.findings.is_empty() {
        args.output.exit_code
    } else {
        0
    })
}

fn run_staged(args: StagedArgs) -> anyhow::Result<u8> {
    let config = scan_config(&args.scan, &args.rules, &args.output)?;
    start_workers(args.scan.threads)?;
    let sink = open_output(&args.output)?;
    let outcome = crate::staged::scan_staged(&config, &args.repo, !args.all_lines)?;
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
    };
    let written = format
        .report()
        .write(&outcome.findings, &outcome.summary, out.as_mut())
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
        serde_json::to_writer_pretty(&mut out, &list)?;
        writeln!(out)?;
    } else {
        let width = rules
            .iter()
            .map(|r| r.spec.id.len())
            .chain(checks.iter().map(|(c, _)| c.id.len()))
            .max()
            .unwrap_or(0);
        for r in &rules {
            writeln!(
                out,
                "{:width$}  {:6}  {}",
                r.spec.id,
                r.spec.confidence.as_str(),
                r.spec.name
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
        writeln!(
            out,
            "{} rules, {} Kubernetes checks",
            rules.len(),
            checks.len()
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
        writeln!(err, "{}: {}: {}", p.origin, p.rule_id, p.message)?;
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
