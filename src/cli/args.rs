//! The raw command line, as clap parses it. `cli::run` turns it into a `ScanConfig`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::finding::Confidence;

#[derive(Debug, Parser)]
#[command(
    name = "tollgate",
    version,
    about = "Find credentials (tokens, keys, passwords) before they reach a repository or a cluster",
    after_help = "Exit codes: 0 nothing found, 1 findings (see --exit-code), 2 error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories.
    Dir(DirArgs),
    /// Audit a repository's history: every blob reachable from every ref, scanned once.
    Git(GitArgs),
    /// Scan what is staged for the next commit (a pre-commit hook): the lines the index
    /// adds against HEAD.
    Staged(StagedArgs),
    /// Server-side pre-receive hook: reject a push that adds a secret (reads Git's
    /// `<old> <new> <ref>` lines on stdin; policy from `git config tollgate.*`).
    PreReceive(PreReceiveArgs),
    /// Install or remove the pre-receive hook.
    #[command(subcommand)]
    Hook(HookCommand),
    /// List or check detection rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Record the current findings as triaged, or drop entries that no longer match.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Check a `.tollgate.yaml` config file.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan, and write the findings' fingerprints to a baseline file (`-o`, default
    /// `.tollgate-baseline.json`, or the config's `baseline`) instead of a report.
    Create {
        #[command(subcommand)]
        scan: BaselineScan,
    },
    /// Scan, list the baseline entries no finding matches any more, and rewrite the
    /// baseline (`--baseline`) without them (to `-o` if given).
    Prune {
        #[command(subcommand)]
        scan: BaselineScan,
    },
}

/// The scan a baseline command runs, with that command's flags.
#[derive(Debug, Subcommand)]
pub enum BaselineScan {
    /// Scan files and directories.
    Dir(DirArgs),
    /// Scan a repository's history.
    Git(GitArgs),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a config file: syntax, keys, values, globs, regexes and rule ids.
    Check {
        /// The file (default: `.tollgate.yaml` in the current directory).
        file: Option<PathBuf>,
        #[command(flatten)]
        rules: RuleArgs,
    },
}

#[derive(Debug, Args)]
pub struct DirArgs {
    /// Files or directories to scan.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    pub follow_symlinks: bool,
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct GitArgs {
    /// The repository: a work tree (or a directory in one), a bare repository or a
    /// linked worktree.
    #[arg(default_value = ".")]
    pub repo: PathBuf,
    /// Revisions to scan instead of every ref: `REV`, `^REV` (exclude), `A..B`, `A...B`.
    #[arg(value_name = "REVISION")]
    pub revisions: Vec<String>,
    /// Scan only the history of this ref (repeatable).
    #[arg(long = "branch", value_name = "REF")]
    pub branches: Vec<String>,
    /// Scan only the blobs introduced by the commits in BASE..HEAD (a merge request).
    #[arg(long, value_name = "BASE..HEAD")]
    pub range: Option<String>,
    /// Also scan blobs in the object store that no commit reaches.
    #[arg(long)]
    pub unreachable: bool,
    /// Report a finding only if it is on a line the commit that introduced the blob
    /// added, so each secret is reported once, where it was added (the default).
    #[arg(long, conflicts_with = "all_lines")]
    pub added_lines_only: bool,
    /// Report findings on every line of every blob scanned: a secret is then reported in
    /// every version of its file.
    #[arg(long)]
    pub all_lines: bool,
    /// Memory for the tree and delta-base caches, shared by the worker threads.
    #[arg(long, default_value = "32M", value_parser = parse_size)]
    pub memory_budget: u64,
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct StagedArgs {
    /// The repository: its work tree or any directory in it (found upward).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Report findings on every line of the staged files, not only on lines they add.
    #[arg(long)]
    pub all_lines: bool,
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct PreReceiveArgs {
    /// The repository (default: $GIT_DIR, as Git sets it for hooks, else `.`).
    #[arg(long)]
    pub repo: Option<PathBuf>,
    #[command(flatten)]
    pub rules: RuleArgs,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write a hook that runs `tollgate pre-receive` (an existing hook is never replaced).
    Install(HookTargetArgs),
    /// Remove the hook `install` wrote (and nothing else).
    Uninstall(HookTargetArgs),
}

#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct HookTargetArgs {
    /// A repository (bare or not): writes its `hooks/pre-receive` (default: the current
    /// repository).
    #[arg(long, value_name = "REPO")]
    pub bare: Option<PathBuf>,
    /// A GitLab server-hooks directory (a repository's `custom_hooks`, or the global
    /// one): writes `DIR/pre-receive.d/tollgate`.
    #[arg(long, value_name = "DIR")]
    pub gitlab_dir: Option<PathBuf>,
    /// A Gitea or Forgejo repository: writes its `hooks/pre-receive.d/tollgate`.
    #[arg(long, value_name = "REPO")]
    pub gitea: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Skip files larger than this (bytes; K, M, G suffixes allowed) [default: 10M, or
    /// the config's `max-file-size`].
    #[arg(long, value_parser = parse_size)]
    pub max_file_size: Option<u64>,
    /// Report only findings at or above this confidence [default: low, or the config's
    /// `min-confidence`].
    #[arg(long)]
    pub min_confidence: Option<Confidence>,
    /// Read this config file instead of `.tollgate.yaml` at the scan root.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read no config file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Do not report findings this baseline has (see `tollgate baseline create`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// How deep decoders (base64, percent) may nest; 0 turns decoding off.
    #[arg(long, default_value_t = 2)]
    pub decode_depth: usize,
    /// Encoded spans longer than this are not decoded (bytes; K, M suffixes allowed).
    #[arg(long, default_value = "64K", value_parser = parse_size)]
    pub max_decode_size: u64,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// Also list every candidate a rule matched that was not reported, and why (which
    /// filter, threshold, overlap, allow-list or baseline dropped it): on stderr, or as
    /// an `explain` array with `--format json`.
    #[arg(long)]
    pub explain: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RuleArgs {
    /// Add rules from a YAML file or every *.yaml/*.yml in a directory (repeatable).
    #[arg(long = "rules", value_name = "PATH")]
    pub rule_paths: Vec<PathBuf>,
    /// Do not run this rule (repeatable).
    #[arg(long = "disable-rule", value_name = "ID")]
    pub disable: Vec<String>,
    /// Run only these rules (repeatable).
    #[arg(long = "only-rule", value_name = "ID")]
    pub only: Vec<String>,
    /// Turn on a check that is off by default, e.g. `k8s.env-secret-ref` (repeatable).
    #[arg(long = "enable-rule", value_name = "ID")]
    pub enable: Vec<String>,
    /// Do not load the built-in rule pack (regex rules and manifest checks).
    #[arg(long)]
    pub no_builtin_rules: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
    Jsonl,
    Sarif,
    Gitlab,
    Junit,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "human")]
    pub format: FormatArg,
    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Show secrets in full. Reports and logs redact them by default.
    #[arg(long)]
    pub no_redact: bool,
    /// Exit code when findings are reported.
    #[arg(long, default_value_t = 1)]
    pub exit_code: u8,
    /// When to use colour in human output.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorArg,
    /// Never draw a progress bar (it is drawn only on a terminal, never in CI).
    #[arg(long)]
    pub no_progress: bool,
    /// List skipped files and other notes on standard error.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Print the rules a scan would run.
    List {
        #[command(flatten)]
        rules: RuleArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Validate rule files and run every rule's examples; exits 1 on any failure.
    Check {
        /// Rule files or directories to check (default: the built-in pack plus --rules).
        files: Vec<PathBuf>,
        #[command(flatten)]
        rules: RuleArgs,
    },
}

/// `123`, `64K`, `10M`, `10MB`, `10MiB`, `1G` (all powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    let number = lower.trim_end_matches("ib").trim_end_matches('b');
    let (digits, mult) = match number.char_indices().last() {
        Some((i, 'k')) => (&number[..i], 1u64 << 10),
        Some((i, 'm')) => (&number[..i], 1 << 20),
        Some((i, 'g')) => (&number[..i], 1 << 30),
        _ => (number, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("`{s}` is not a size (e.g. 500000, 64K, 10M, 1G)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_suffixes() {
        assert_eq!(parse_size("10"), Ok(10));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("10m"), Ok(10 << 20));
        assert_eq!(parse_size("10MB"), Ok(10 << 20));
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("512b"), Ok(512));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
