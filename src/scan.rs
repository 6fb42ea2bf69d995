//! One scan, end to end: the pipeline in one place. A source thread enumerates work into a
//! bounded channel, rayon workers (each with its own `Scratch`) read and match, and the
//! findings are gathered for one report. `ScanConfig` is the validated form of the
//! command line; nothing here knows about flags.

use std::cell::RefCell;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;

use crate::baseline::{self, Baseline};
use crate::config::Filters;
use crate::credfiles::{self, CredHit};
use crate::engine::{
    filters, BlobMatches, Engine, EngineOptions, Match, RuleSelection, Scratch, ScratchPool,
};
use crate::finding::{fingerprint, redact, Confidence, Finding, K8sContext};
use crate::k8s::{self, checks::Hit, checks::CHECKS};
use crate::snippet;
use crate::source::dir::{self, FileContent, WalkEvent, WalkOptions};
use crate::source::git::{self, BlobRead, HistoryOptions};
use crate::source::sniff::{sniff, Sniffed};
use crate::source::Provenance;

/// Default for `--max-file-size`.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;
/// Paths in flight between the walker and the workers.
const WALK_CHANNEL_BOUND: usize = 4096;

#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub rules: RuleSelection,
    pub engine: EngineOptions,
    pub redact: bool,
    pub max_file_size: u64,
    pub follow_symlinks: bool,
    pub progress: bool,
    pub verbose: bool,
    /// Which manifest checks run.
    pub k8s: k8s::Selection,
    /// Which credential-file checks run.
    pub credfiles: credfiles::Selection,
    /// Paths not to scan and secrets to allow, from `.tollgate.yaml`.
    pub filters: Arc<Filters>,
    /// Triaged findings not to report again.
    pub baseline: Option<Arc<Baseline>>,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            rules: RuleSelection {
                builtin: true,
                ..RuleSelection::default()
            },
            engine: EngineOptions::default(),
            redact: true,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            follow_symlinks: false,
            progress: false,
            verbose: false,
            k8s: k8s::Selection::default(),
            credfiles: credfiles::Selection::default(),
            filters: Arc::default(),
            baseline: None,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Skipped {
    pub binary: u64,
    pub too_large: u64,
    pub symlink: u64,
    /// FIFOs, sockets and devices.
    pub special: u64,
    pub unreadable: u64,
    /// Git LFS pointer files (history scans).
    pub lfs_pointer: u64,
    /// Submodule links introduced (history scans): their content lives elsewhere.
    pub submodule: u64,
    /// Paths matched by `allow-paths` in the config.
    pub allow_paths: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ByConfidence {
    pub high: u64,
    pub medium: u64,
    pub low: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub findings: u64,
    pub by_confidence: ByConfidence,
    pub suppressed_inline: u64,
    /// Findings the baseline (`--baseline`) has.
    pub suppressed_baseline: u64,
    /// Findings the config allows (`allow-secrets`, `rule-settings.*.allow`).
    pub suppressed_config: u64,
    /// Baseline entries that no finding matched (`tollgate baseline prune` drops them).
    pub baseline_stale: u64,
    /// Findings left out because they are on lines the change did not add (history scans
    /// with `--added-lines-only`, `tollgate staged`).
    pub suppressed_not_added: u64,
    pub skipped: Skipped,
    pub warnings: u64,
    /// Paths named on the command line that could not be scanned at all.
    pub roots_unscanned: u64,
    pub rules: usize,
    pub duration_ms: u64,
    /// Wall-clock time the scan started, for reports that carry timestamps (GitLab's).
    #[serde(skip)]
    pub started_at: Option<SystemTime>,
    /// History scans only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<HistorySummary>,
}

/// What a history scan walked.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HistorySummary {
    /// Commits walked (boundary commits of a range not counted).
    pub commits: u64,
    /// References read (0 when revisions were given).
    pub refs: u64,
    /// Unique blobs introduced by the walked commits (and unreachable ones, if asked).
    pub blobs: u64,
    pub object_format: String,
    /// A shallow clone: history stops at the shallow boundary.
    pub shallow: bool,
    /// False when an object could not be read: the audit did not cover everything.
    pub complete: bool,
    /// Only findings on lines the introducing commit added were kept.
    pub added_lines_only: bool,
}

#[derive(Debug)]
pub struct ScanOutcome {
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// Baseline entries that no finding matched.
    pub stale: Vec<baseline::Entry>,
    /// With `--explain` (else `None`): every candidate that was not reported, and why.
    pub explained: Option<Vec<Explained>>,
}

/// A candidate a rule's regex matched that was not reported (`--explain`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explained {
    pub rule_id: String,
    pub path: String,
    pub line: usize,
    pub column: usize,
    /// Redacted unless `--no-redact`.
    pub secret: String,
    pub reason: String,
}

impl Explained {
    fn of_finding(f: &Finding, reason: &str) -> Explained {
        Explained {
            rule_id: f.rule_id.clone(),
            path: f.path.clone(),
            line: f.line,
            column: f.column,
            secret: f.secret.clone(),
            reason: reason.to_string(),
        }
    }
}

/// Counters shared by the workers.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) files: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) suppressed_inline: AtomicU64,
    pub(crate) suppressed_config: AtomicU64,
    pub(crate) allow_paths: AtomicU64,
    pub(crate) binary: AtomicU64,
    pub(crate) too_large: AtomicU64,
    pub(crate) symlink: AtomicU64,
    pub(crate) special: AtomicU64,
    pub(crate) unreadable: AtomicU64,
    pub(crate) warnings: AtomicU64,
    pub(crate) roots_unscanned: AtomicU64,
    pub(crate) lfs_pointer: AtomicU64,
    /// Objects a history scan could not read.
    pub(crate) unreadable_objects: AtomicU64,
    /// Findings on lines the change did not add, left out.
    pub(crate) not_added: AtomicU64,
}

impl Counters {
    pub(crate) fn add_suppressed(&self, report: &BlobReport) {
        self.suppressed_inline
            .fetch_add(report.suppressed_inline, Ordering::Relaxed);
        self.suppressed_config
            .fetch_add(report.suppressed_config, Ordering::Relaxed);
    }
}

/// Warnings and `-v` notes go to stderr, around the progress bar.
pub(crate) struct Diagnostics {
    progress: ProgressBar,
    verbose: bool,
}

impl Diagnostics {
    pub(crate) fn new(enabled: bool, verbose: bool) -> Diagnostics {
        let target = if enabled {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let progress = ProgressBar::with_draw_target(None, target);
        progress.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("static template"),
        );
        progress.enable_steady_tick(Duration::from_millis(120));
        Diagnostics { progress, verbose }
    }

    pub(crate) fn warn(&self, message: &str) {
        let message = snippet::escaped(message);
        self.progress
            .suspend(|| eprintln!("tollgate: warning: {message}"));
    }

    pub(crate) fn note(&self, message: &str) {
        let message = snippet::escaped(message);
        if self.verbose {
            self.progress.suspend(|| eprintln!("tollgate: {message}"));
        }
    }
}

/// Compile the rules a configuration selects.
pub fn build_engine(config: &ScanConfig) -> anyhow::Result<Engine> {
    let mut rules = config.rules.load()?;
    for rule in &mut rules {
        if let Some(min) = config.filters.min_entropy(&rule.spec.id) {
            rule.spec.min_entropy = Some(min);
        }
    }
    Ok(Engine::new(rules, config.engine)?)
}

/// `tollgate dir`: scan every file under `roots`.
pub fn scan_dirs(config: &ScanConfig, roots: &[PathBuf]) -> anyhow::Result<ScanOutcome> {
    for root in roots {
        if std::fs::symlink_metadata(root).is_err() {
            anyhow::bail!("{}: no such file or directory", root.display());
        }
    }
    let engine = build_engine(config)?;
    let started = Instant::now();
    let counters = Counters::default();
    let collector = Collector::default();
    let scratches = ScratchPool::default();
    let diag = Diagnostics::new(config.progress, config.verbose);
    let (tx, rx) = crossbeam_channel::bounded(WALK_CHANNEL_BOUND);
    let walk_options = WalkOptions {
        follow_symlinks: config.follow_symlinks,
    };
    std::thread::scope(|s| {
        s.spawn(move || dir::walk(roots, walk_options, &tx));
        rx.into_iter().par_bridge().for_each(|event| match event {
            WalkEvent::File(entry) => {
                let path = entry.path.display().to_string();
                let rel_path = dir::relative_path(&entry);
                if config.filters.skips_path(&rel_path) {
                    counters.allow_paths.fetch_add(1, Ordering::Relaxed);
                    diag.note(&format!("skipped {path}: allow-paths in the config"));
                    return;
                }
                let whole = credfiles::is_whole_file_store(&rel_path);
                let read = if whole {
                    dir::read_file_whole(&entry.path, config.max_file_size)
                } else {
                    dir::read_file(&entry.path, config.max_file_size)
                };
                match read {
                    Ok(FileContent::Bytes(bytes)) => {
                        let provenance = Provenance {
                            rel_path,
                            path,
                            git: None,
                        };
                        if let Some(report) = scan_whole_file_store(&bytes, &provenance, config) {
                            counters.files.fetch_add(1, Ordering::Relaxed);
                            counters
                                .bytes
                                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                            counters.add_suppressed(&report);
                            if let Some(n) = collector.add(report) {
                                diag.progress.set_message(progress_message(&counters, n));
                            }
                            return;
                        }
                        let views = match sniff(&bytes) {
                            Sniffed::Text(views) => views,
                            Sniffed::Binary => {
                                counters.binary.fetch_add(1, Ordering::Relaxed);
                                diag.note(&format!("skipped {}: binary", provenance.path));
                                return;
                            }
                            Sniffed::LfsPointer => {
                                counters.lfs_pointer.fetch_add(1, Ordering::Relaxed);
                                diag.note(&format!("skipped {}: Git LFS pointer", provenance.path));
                                return;
                            }
                        };
                        counters.files.fetch_add(1, Ordering::Relaxed);
                        counters
                            .bytes
                            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                        for view in &views {
                            let report = scratches.with(|scratch| {
                                scan_blob(&engine, &view.text, &provenance, config, scratch)
                            });
                            counters.add_suppressed(&report);
                            if let Some(err) = &report.parse_error {
                                diag.note(&format!(
                                    "{}: not valid YAML ({err}); Kubernetes context read from its lines",
                                    provenance.path
                                ));
                            }
                            if let Some(n) = collector.add(report) {
                                diag.progress.set_message(progress_message(&counters, n));
                            }
                        }
                    }
                    Ok(FileContent::TooLarge(len)) => {
                        counters.too_large.fetch_add(1, Ordering::Relaxed);
                        diag.note(&format!(
                            "skipped {path}: {len} bytes is over --max-file-size"
                        ));
                    }
                    Ok(FileContent::Binary) => {
                        counters.binary.fetch_add(1, Ordering::Relaxed);
                        diag.note(&format!("skipped {path}: binary"));
                    }
                    Err(err) => {
                        counters.unreadable.fetch_add(1, Ordering::Relaxed);
                        counters.warnings.fetch_add(1, Ordering::Relaxed);
                        diag.warn(&format!("cannot read {path}: {err}"));
                    }
                }
                if counters.files.load(Ordering::Relaxed) % 256 == 0 {
                    diag.progress
                        .set_message(progress_message(&counters, collector.len()));
                }
            }
            WalkEvent::Symlink(path) => {
                counters.symlink.fetch_add(1, Ordering::Relaxed);
                diag.note(&format!(
                    "skipped {}: symbolic link (see --follow-symlinks)",
                    path.display()
                ));
            }
            WalkEvent::Special(path) => {
                counters.special.fetch_add(1, Ordering::Relaxed);
                let message = format!(
                    "skipped {}: not a regular file (FIFO, socket or device)",
                    path.display()
                );
                // A path the user named is worth a warning; one found inside a tree, a note.
                if roots.contains(&path) {
                    counters.warnings.fetch_add(1, Ordering::Relaxed);
                    counters.roots_unscanned.fetch_add(1, Ordering::Relaxed);
                    diag.warn(&message);
                } else {
                    diag.note(&message);
                }
            }
            WalkEvent::Error(message) => {
                counters.unreadable.fetch_add(1, Ordering::Relaxed);
                counters.warnings.fetch_add(1, Ordering::Relaxed);
                diag.warn(&message);
            }
            WalkEvent::RootError(message) => {
                counters.unreadable.fetch_add(1, Ordering::Relaxed);
                counters.roots_unscanned.fetch_add(1, Ordering::Relaxed);
                counters.warnings.fetch_add(1, Ordering::Relaxed);
                diag.warn(&message);
            }
            WalkEvent::UnresolvedLink(message) => {
                // Nothing is missed, but the user may want to know.
                counters.symlink.fetch_add(1, Ordering::Relaxed);
                counters.warnings.fetch_add(1, Ordering::Relaxed);
                diag.warn(&message);
            }
        });
    });
    diag.progress.finish_and_clear();
    let mut explained = collector.take_explained();
    let mut findings = collector.finish(config);
    // Overlapping roots (`dir . .`, `dir a a/b`) reach the same file twice.
    findings.dedup_by(|a, b| {
        (&a.path, a.line, a.column, &a.fingerprint) == (&b.path, b.line, b.column, &b.fingerprint)
    });
    explained.dedup();
    Ok(outcome(
        &counters,
        findings,
        explained,
        config,
        rule_count(&engine, config),
        started.elapsed(),
    ))
}

/// Regex rules and manifest checks that ran.
pub(crate) fn rule_count(engine: &Engine, config: &ScanConfig) -> usize {
    engine.rules().len() + config.k8s.enabled_ids().count() + config.credfiles.enabled_count()
}

/// `tollgate git`: every blob the selected history introduced, each scanned once and
/// attributed to the first commit that introduced it.
pub fn scan_git(
    config: &ScanConfig,
    repo_path: &Path,
    options: &HistoryOptions,
) -> anyhow::Result<ScanOutcome> {
    let repo = git::open(repo_path)?;
    let started = Instant::now();
    let diag = Diagnostics::new(config.progress, config.verbose);
    diag.progress.set_message("reading history");
    // The rules load while the history is read.
    let (engine, plan) = std::thread::scope(|s| {
        let engine = s.spawn(|| build_engine(config));
        let plan = git::plan(&repo, options, &|n| {
            if n % 1024 == 0 {
                diag.progress.set_message(format!("{n} commits walked"));
            }
        });
        let engine = engine.join().expect("rule loading does not panic");
        (engine, plan)
    });
    let (engine, plan) = (engine?, plan?);
    for (i, w) in plan.warnings.iter().enumerate() {
        if i < MAX_LISTED_OBJECT_WARNINGS {
            diag.warn(w);
        } else {
            diag.note(w);
        }
    }
    if plan.warnings.len() > MAX_LISTED_OBJECT_WARNINGS {
        diag.warn(&format!(
            "{} more problems reading the history (-v lists them)",
            plan.warnings.len() - MAX_LISTED_OBJECT_WARNINGS
        ));
    }
    git::release_pack_pages(&repo);
    diag.note(&format!(
        "history read in {:.2}s: {} commits, {} unique blobs",
        started.elapsed().as_secs_f64(),
        plan.walked_commits(),
        plan.blobs.len()
    ));
    if plan.shallow {
        diag.warn("shallow clone: history stops at the shallow boundary; scanning what is there");
    }
    let commits = plan.walked_commits();
    let added_lines_only = options.added_lines_only;
    let counters = Counters::default();
    let collector = Collector::default();
    let scratches = ScratchPool::default();
    // A worker's handle, and its buffers for a blob and for the blob it replaced.
    type Worker = RefCell<(gix::Repository, Vec<u8>, Vec<u8>)>;
    let handles: thread_local::ThreadLocal<Worker> = thread_local::ThreadLocal::new();
    let inflated = AtomicU64::new(0);
    // A partial clone may lack thousands of blobs: the first few are warnings, the rest
    // notes, and one line at the end counts them.
    let unreadable = |message: String| {
        let n = counters.unreadable_objects.fetch_add(1, Ordering::Relaxed);
        counters.warnings.fetch_add(1, Ordering::Relaxed);
        if (n as usize) < MAX_LISTED_OBJECT_WARNINGS {
            diag.warn(&message);
        } else {
            diag.note(&message);
        }
    };
    let show_progress = |found: usize| {
        let bytes = counters.bytes.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0);
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        diag.progress.set_message(format!(
            "{commits} commits, {}/{} blobs, {bytes:.1} MiB ({:.0} MiB/s), {found} findings",
            counters.files.load(Ordering::Relaxed),
            plan.blobs.len(),
            bytes / secs
        ));
    };
    plan.blobs.par_chunks(BLOB_CHUNK).for_each(|chunk| {
        let cell = handles.get_or(|| {
            RefCell::new((
                git::thread_handle(&repo, options.cache_per_thread),
                Vec::new(),
                Vec::new(),
            ))
        });
        let (handle, buffer, previous_buffer) = &mut *cell.borrow_mut();
        for record in chunk {
            let id = record.id;
            let path = plan.display_path(record);
            // Only notes and warnings name the commit: built when one is written.
            let at = || match record.commit {
                Some(c) => format!("{path} in commit {}", plan.commits[c as usize].id),
                None => path.clone(),
            };
            let data = match git::read_blob(handle, &id, config.max_file_size, buffer) {
                BlobRead::Data(data) => {
                    let before = inflated.fetch_add(data.len() as u64, Ordering::Relaxed);
                    if before / RELEASE_PACK_PAGES_EVERY
                        != (before + data.len() as u64) / RELEASE_PACK_PAGES_EVERY
                    {
                        git::release_pack_pages(&repo);
                    }
                    data
                }
                BlobRead::TooLarge(size) => {
                    counters.too_large.fetch_add(1, Ordering::Relaxed);
                    diag.note(&format!(
                        "skipped {}: {size} bytes is over --max-file-size",
                        at()
                    ));
                    continue;
                }
                BlobRead::Missing => {
                    unreadable(format!("missing blob {id} ({})", at()));
                    continue;
                }
                BlobRead::Error(e) => {
                    unreadable(format!("cannot read blob {id} ({}): {e}", at()));
                    continue;
                }
            };
            let whole_store = credfiles::is_whole_file_store(&path)
                .then(|| {
                    let provenance = Provenance {
                        rel_path: path.clone(),
                        path: path.clone(),
                        git: Some(plan.git_context(record)),
                    };
                    scan_whole_file_store(data, &provenance, config)
                })
                .flatten();
            if let Some(report) = whole_store {
                counters.files.fetch_add(1, Ordering::Relaxed);
                counters
                    .bytes
                    .fetch_add(data.len() as u64, Ordering::Relaxed);
                counters.add_suppressed(&report);
                if let Some(n) = collector.add(report) {
                    show_progress(n);
                }
                continue;
            }
            let views = match sniff(data) {
                Sniffed::Text(views) => views,
                Sniffed::LfsPointer => {
                    counters.lfs_pointer.fetch_add(1, Ordering::Relaxed);
                    diag.note(&format!("skipped {}: Git LFS pointer", at()));
                    continue;
                }
                Sniffed::Binary => {
                    counters.binary.fetch_add(1, Ordering::Relaxed);
                    diag.note(&format!("skipped {}: binary", at()));
                    continue;
                }
            };
            let blob_len = data.len() as u64;
            let provenance = Provenance {
                rel_path: path.clone(),
                path,
                git: Some(plan.git_context(record)),
            };
            let mut reports = Vec::with_capacity(views.len());
            for view in &views {
                let mut report = scratches
                    .with(|scratch| scan_blob(&engine, &view.text, &provenance, config, scratch));
                // Earlier versions are read only for a blob with something to filter.
                if added_lines_only
                    && !(report.findings.is_empty() && report.facts.pods.is_empty())
                {
                    let dropped = crate::added_lines::keep_added_against(
                        handle,
                        &plan.previous_blobs(record),
                        &view.text,
                        config.max_file_size,
                        previous_buffer,
                        &mut report,
                        &|old| scratches.with(|s| scan_blob(&engine, old, &provenance, config, s)),
                    );
                    counters.not_added.fetch_add(dropped, Ordering::Relaxed);
                }
                reports.push(report);
            }
            let scanned = counters.files.fetch_add(1, Ordering::Relaxed) + 1;
            counters.bytes.fetch_add(blob_len, Ordering::Relaxed);
            let mut added = None;
            for report in reports {
                counters.add_suppressed(&report);
                if let Some(err) = &report.parse_error {
                    diag.note(&format!(
                        "{} in commit {}: not valid YAML ({err}); Kubernetes context read from its lines",
                        provenance.path,
                        provenance.git.as_ref().map_or("", |g| g.commit.as_str()),
                    ));
                }
                added = collector.add(report).or(added);
            }
            match added {
                Some(n) => show_progress(n),
                None if scanned % 256 == 0 => show_progress(collector.len()),
                None => {}
            }
        }
    });
    let texts = crate::source::messages::scan_history_texts(&repo, &plan, &engine, config);
    texts.warnings.into_iter().for_each(unreadable);
    for why in texts.too_large {
        counters.too_large.fetch_add(1, Ordering::Relaxed);
        diag.note(&why);
    }
    for report in texts.reports {
        counters.add_suppressed(&report);
        collector.add(report);
    }
    diag.progress.finish_and_clear();
    let unread = counters.unreadable_objects.load(Ordering::Relaxed) as usize;
    if unread > MAX_LISTED_OBJECT_WARNINGS {
        diag.warn(&format!(
            "{unread} blobs could not be read in all ({} listed; -v lists them all)",
            MAX_LISTED_OBJECT_WARNINGS
        ));
    }
    let explained = collector.take_explained();
    let findings = collector.finish(config);
    let mut outcome = outcome(
        &counters,
        findings,
        explained,
        config,
        rule_count(&engine, config),
        started.elapsed(),
    );
    let summary = &mut outcome.summary;
    summary.skipped.submodule = plan.submodules;
    summary.skipped.allow_paths = plan.allow_paths;
    summary.warnings += plan.warnings.len() as u64 + u64::from(plan.shallow);
    summary.history = Some(HistorySummary {
        commits: commits as u64,
        refs: plan.refs,
        blobs: plan.blobs.len() as u64,
        object_format: plan.object_format.clone(),
        shallow: plan.shallow,
        complete: plan.complete && counters.unreadable_objects.load(Ordering::Relaxed) == 0,
        added_lines_only,
    });
    Ok(outcome)
}

/// Object problems listed as warnings before the rest become `-v` notes.
const MAX_LISTED_OBJECT_WARNINGS: usize = 20;

/// Pack pages read are handed back to the kernel after this many bytes of blobs: the
/// process stays small however large the packs are.
const RELEASE_PACK_PAGES_EVERY: u64 = 16 << 20;

/// Blobs a worker takes at a time: neighbours in the pack, read front to back.
const BLOB_CHUNK: usize = 16;

fn progress_message(c: &Counters, findings: usize) -> String {
    format!(
        "{} files, {:.1} MiB, {findings} findings",
        c.files.load(Ordering::Relaxed),
        c.bytes.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0)
    )
}

pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule_id, &a.fingerprint).cmp(&(
            &b.path,
            b.line,
            b.column,
            &b.rule_id,
            &b.fingerprint,
        ))
    });
}

/// The scan's findings less the baseline's, and the summary of it all.
pub(crate) fn outcome(
    c: &Counters,
    mut findings: Vec<Finding>,
    mut explained: Vec<Explained>,
    config: &ScanConfig,
    rules: usize,
    elapsed: Duration,
) -> ScanOutcome {
    let before: Vec<Finding> = if config.engine.explain && config.baseline.is_some() {
        findings.clone()
    } else {
        Vec::new()
    };
    let applied = config
        .baseline
        .as_ref()
        .map(|b| b.apply(&mut findings))
        .unwrap_or_default();
    if !before.is_empty() {
        let kept: std::collections::HashSet<&str> =
            findings.iter().map(|f| f.fingerprint.as_str()).collect();
        explained.extend(
            before
                .iter()
                .filter(|f| !kept.contains(f.fingerprint.as_str()))
                .map(|f| Explained::of_finding(f, "baseline")),
        );
    }
    let mut summary = summarize(c, &findings, rules, elapsed);
    summary.suppressed_baseline = applied.suppressed;
    summary.baseline_stale = applied.stale.len() as u64;
    ScanOutcome {
        findings,
        summary,
        stale: applied.stale,
        explained: config.engine.explain.then_some(explained),
    }
}

fn summarize(c: &Counters, findings: &[Finding], rules: usize, elapsed: Duration) -> Summary {
    let count = |conf| findings.iter().filter(|f| f.confidence == conf).count() as u64;
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    Summary {
        files_scanned: get(&c.files),
        bytes_scanned: get(&c.bytes),
        findings: findings.len() as u64,
        by_confidence: ByConfidence {
            high: count(Confidence::High),
            medium: count(Confidence::Medium),
            low: count(Confidence::Low),
        },
        suppressed_inline: get(&c.suppressed_inline),
        suppressed_baseline: 0,
        suppressed_config: get(&c.suppressed_config),
        baseline_stale: 0,
        suppressed_not_added: get(&c.not_added),
        skipped: Skipped {
            binary: get(&c.binary),
            too_large: get(&c.too_large),
            symlink: get(&c.symlink),
            special: get(&c.special),
            unreadable: get(&c.unreadable),
            lfs_pointer: get(&c.lfs_pointer),
            submodule: 0,
            allow_paths: get(&c.allow_paths),
        },
        warnings: get(&c.warnings),
        roots_unscanned: get(&c.roots_unscanned),
        rules,
        duration_ms: elapsed.as_millis() as u64,
        started_at: SystemTime::now().checked_sub(elapsed),
        history: None,
    }
}

/// What one blob produced.
#[derive(Debug, Default)]
pub struct BlobReport {
    pub findings: Vec<Finding>,
    /// Findings an inline allow marker suppressed.
    pub suppressed_inline: u64,
    /// Those findings themselves, for the hook's audit log (or to block on, when the
    /// server does not honour markers).
    pub inline_allowed: Vec<Finding>,
    /// Findings the config's secret allow-lists suppressed.
    pub suppressed_config: u64,
    /// Manifest objects later correlated with other files'.
    pub facts: k8s::Facts,
    /// A YAML file that did not parse, so its findings got context from its lines only.
    pub parse_error: Option<String>,
    /// With `--explain`: candidates not reported, and why.
    pub explained: Vec<Explained>,
}

impl BlobReport {
    /// The report as a server that does (`true`) or does not honour inline markers
    /// sees it: without, what they suppressed is reported like any other finding.
    pub fn with_markers(mut self, honoured: bool) -> BlobReport {
        if !honoured {
            self.findings.append(&mut self.inline_allowed);
            self.suppressed_inline = 0;
        }
        self
    }
}

/// Match one blob, run the manifest stage on it, and turn both into findings.
pub fn scan_blob(
    engine: &Engine,
    data: &[u8],
    provenance: &Provenance,
    config: &ScanConfig,
    scratch: &mut Scratch,
) -> BlobReport {
    let BlobMatches {
        mut matches,
        mut allowed_inline,
        markers,
        dropped: engine_dropped,
    } = engine.scan(data, scratch);
    let explain = config.engine.explain;
    if !config.k8s.regex_findings {
        matches.clear();
        allowed_inline.clear();
    }
    // One finding per secret in a credential file. A provider's own high-confidence rule
    // (a prefix, a checksum, a key format) names the secret best and keeps it, at high
    // confidence; any other text rule yields to the store's reader, which knows the value
    // is a credential. A value the reader took for a reference is no text rule's either.
    let (cred_references, mut cred_hits): (Vec<CredHit>, Vec<CredHit>) =
        credfiles::analyze(&provenance.rel_path, data, &config.credfiles)
            .into_iter()
            .partition(|h| h.reference);
    if !cred_hits.is_empty() {
        let specific = k8s::SpanIndex::new(
            matches
                .iter()
                .chain(&allowed_inline)
                .filter(|m| {
                    let spec = &engine.rules()[m.rule].spec;
                    // `credfiles.*` are the content-only forms of the catalogue's readers.
                    m.confidence == Confidence::High
                        && !spec.generic
                        && !spec.id.starts_with("credfiles.")
                })
                .map(|m| m.span.clone()),
        );
        cred_hits.retain(|h| !specific.overlaps(&h.span));
    }
    let cred_spans = k8s::SpanIndex::new(
        cred_hits
            .iter()
            .chain(cred_references.iter().filter(|h| !h.span.is_empty()))
            .map(|h| h.span.clone()),
    );
    if !cred_hits.is_empty() || !cred_references.is_empty() {
        matches.retain(|m| !cred_spans.overlaps(&m.span));
        allowed_inline.retain(|m| !cred_spans.overlaps(&m.span));
    }
    let spans: Vec<k8s::MatchSpan> = matches
        .iter()
        .map(|m| k8s::MatchSpan {
            span: m.span.clone(),
            generic: engine.rules()[m.rule].spec.generic,
        })
        .collect();
    let analysis = k8s::analyze(
        &provenance.rel_path,
        data,
        &spans,
        &config.k8s,
        config.engine.min_confidence,
    )
    .unwrap_or_default();
    let k8s::Analysis {
        mut contexts,
        dropped,
        hits,
        masks: structural_masks,
        facts,
        parse_error,
    } = analysis;
    let structural_masks = structural_masks
        .into_iter()
        .chain(cred_hits.iter().map(|h| (h.span.clone(), h.secret.clone())))
        .collect::<Vec<_>>();
    let hits: Vec<CheckHit> = hits
        .into_iter()
        .filter(|h| h.secret.is_empty() || !cred_spans.overlaps(&h.span))
        .map(CheckHit::from)
        .chain(cred_hits.into_iter().map(CheckHit::from))
        .filter(|h| h.confidence >= config.engine.min_confidence)
        .collect();
    contexts.resize(matches.len(), None);
    let mut dropped = dropped.into_iter();
    let mut k8s_dropped = Vec::new();
    let (matches, contexts): (Vec<Match>, Vec<Option<K8sContext>>) = matches
        .into_iter()
        .zip(contexts)
        .filter(|(m, _)| {
            let gone = dropped.next().unwrap_or(false);
            if gone && explain {
                k8s_dropped.push(m.clone());
            }
            !gone
        })
        .unzip();
    // Secrets the config allows are not reported, but are still masked in snippets.
    let filters = &config.filters;
    let (matches, contexts, config_allowed) = if filters.has_secret_filters() {
        let (mut kept, mut kept_contexts, mut allowed) = (Vec::new(), Vec::new(), Vec::new());
        for (m, context) in matches.into_iter().zip(contexts) {
            if filters.allows_secret(&engine.rules()[m.rule].spec.id, &m.secret) {
                allowed.push(m);
            } else {
                kept.push(m);
                kept_contexts.push(context);
            }
        }
        (kept, kept_contexts, allowed)
    } else {
        (matches, contexts, Vec::new())
    };

    // Structural hits a marker covers are suppressed like matches; any finding between a
    // hit and a marker takes the marker for itself.
    let (hits, allowed): (Vec<CheckHit>, Vec<CheckHit>) = if markers.is_empty() {
        (hits, Vec::new())
    } else {
        let mut candidates: Vec<usize> = hits
            .iter()
            .map(|h| h.span.start)
            .chain(matches.iter().map(|m| m.span.start))
            .collect();
        candidates.sort_unstable();
        hits.into_iter()
            .partition(|h| !markers.covers(data, h.span.clone(), &candidates))
    };
    let (hits, hits_config_allowed): (Vec<CheckHit>, Vec<CheckHit>) = hits
        .into_iter()
        .partition(|h| h.secret.is_empty() || !filters.allows_secret(h.id, &h.secret));
    let pod_spans = facts.pods.iter().map(|p| p.report.span.clone());
    let mut offsets: Vec<usize> = matches
        .iter()
        .map(|m| &m.span)
        .chain(hits.iter().map(|h| &h.span))
        .cloned()
        .chain(pod_spans)
        .chain(allowed_inline.iter().map(|m| m.span.clone()))
        .chain(allowed.iter().map(|h| h.span.clone()))
        .flat_map(|span| [span.start, span.end])
        .collect();
    if explain {
        offsets.extend(
            engine_dropped
                .iter()
                .map(|d| d.candidate.span.start)
                .chain(k8s_dropped.iter().map(|m| m.span.start))
                .chain(config_allowed.iter().map(|m| m.span.start))
                .chain(allowed_inline.iter().map(|m| m.span.start)),
        );
    }
    let positions = snippet::Positions::new(data, &mut offsets);
    // Every secret on a snippet's line is masked: the engine's, and every value a
    // structural check took for a secret, reported or not.
    let masks: Vec<Match> = structural_masks
        .into_iter()
        .map(|(span, secret)| structural_match(span, secret))
        .chain(matches.iter().cloned())
        .chain(config_allowed.iter().cloned())
        .chain(allowed_inline.iter().cloned())
        .collect();
    let shown = matches
        .iter()
        .chain(&allowed_inline)
        .map(|m| m.span.clone())
        .chain(hits.iter().chain(&allowed).map(|h| h.span.clone()))
        .chain(facts.pods.iter().map(|p| p.report.span.clone()));
    let masks = snippet::SnippetMasks::new(data, &masks, shown);
    let report = |secret: &[u8], span: Range<usize>, m: &Match| {
        let (line, column) = positions.of(span.start);
        let (end_line, end_column) = positions.of(span.end);
        let shown = String::from_utf8_lossy(secret).into_owned();
        Located {
            line,
            column,
            end_line,
            end_column,
            secret: if config.redact { redact(&shown) } else { shown },
            snippet: snippet::snippet(data, m, &masks, config.redact),
        }
    };
    let match_finding = |m: &Match, k8s: Option<K8sContext>| {
        let rule = &engine.rules()[m.rule];
        let at = report(&m.secret, m.span.clone(), m);
        Finding {
            rule_id: rule.spec.id.clone(),
            rule_name: rule.spec.name.clone(),
            description: rule.spec.description.as_ref().map(|d| d.trim().to_string()),
            confidence: m.confidence,
            path: provenance.path.clone(),
            line: at.line,
            column: at.column,
            end_line: at.end_line,
            end_column: at.end_column,
            secret: at.secret,
            redacted: config.redact,
            entropy: (m.entropy * 1000.0).round() / 1000.0,
            fingerprint: fingerprint(&rule.spec.id, &m.secret, &provenance.rel_path),
            decoded: m.decoded.iter().map(|d| d.name().to_string()).collect(),
            snippet: at.snippet,
            git: provenance.git.clone(),
            k8s,
        }
    };
    let mut findings: Vec<Finding> = matches
        .iter()
        .zip(contexts)
        .map(|(m, k8s)| match_finding(m, k8s))
        .collect();
    let hit_finding = |hit: CheckHit| {
        let m = structural_match(hit.span.clone(), hit.secret.clone());
        let at = report(&hit.secret, hit.span.clone(), &m);
        // A posture finding has no secret: its identity is the object and field.
        let identity = if hit.secret.is_empty() {
            hit.identity.as_bytes()
        } else {
            &hit.secret
        };
        Finding {
            rule_id: hit.id.to_string(),
            rule_name: hit.name.to_string(),
            description: Some(hit.description.to_string()),
            confidence: hit.confidence,
            path: provenance.path.clone(),
            line: at.line,
            column: at.column,
            end_line: at.end_line,
            end_column: at.end_column,
            secret: if hit.secret.is_empty() {
                String::new()
            } else {
                at.secret
            },
            redacted: config.redact,
            entropy: (filters::shannon_entropy(&hit.secret) * 1000.0).round() / 1000.0,
            fingerprint: fingerprint(hit.id, identity, &provenance.rel_path),
            decoded: hit.decoded.iter().map(|d| d.to_string()).collect(),
            snippet: at.snippet,
            git: provenance.git.clone(),
            k8s: hit.context,
        }
    };
    let mut report_facts = k8s::Facts::default();
    report_facts.add(facts, &provenance.path, |h| hit_finding(CheckHit::from(h)));
    findings.extend(hits.into_iter().map(&hit_finding));
    let inline_allowed: Vec<Finding> = allowed_inline
        .iter()
        .filter(|m| !filters.allows_secret(&engine.rules()[m.rule].spec.id, &m.secret))
        .map(|m| match_finding(m, None))
        .chain(allowed.into_iter().map(&hit_finding))
        .collect();
    let mut explained = Vec::new();
    if explain {
        let rules = engine.rules();
        let mut explain_match = |m: &Match, reason: String| {
            let (line, column) = positions.of(m.span.start);
            let shown = String::from_utf8_lossy(&m.secret).into_owned();
            explained.push(Explained {
                rule_id: rules[m.rule].spec.id.clone(),
                path: provenance.path.clone(),
                line,
                column,
                secret: if config.redact { redact(&shown) } else { shown },
                reason,
            });
        };
        for d in &engine_dropped {
            let rule = &rules[d.candidate.rule];
            explain_match(&d.candidate, d.reason.describe(rule, rules));
        }
        for m in &k8s_dropped {
            explain_match(m, "Kubernetes context: not a credential there".into());
        }
        for m in &config_allowed {
            explain_match(m, "config allow-list".into());
        }
        for m in &allowed_inline {
            explain_match(m, "inline allow marker".into());
        }
        explained.sort_by_key(|e| (e.line, e.column));
    }
    BlobReport {
        explained,
        findings,
        suppressed_inline: inline_allowed.len() as u64,
        inline_allowed,
        suppressed_config: (config_allowed.len() + hits_config_allowed.len()) as u64,
        facts: report_facts,
        parse_error,
    }
}

/// A finding of a check rather than a rule: a manifest check's or a credential file's.
struct CheckHit {
    id: &'static str,
    name: &'static str,
    description: &'static str,
    span: Range<usize>,
    /// Empty for posture findings.
    secret: Vec<u8>,
    decoded: Vec<&'static str>,
    confidence: Confidence,
    context: Option<K8sContext>,
    /// What identifies a posture finding across edits.
    identity: String,
}

impl From<Hit> for CheckHit {
    fn from(h: Hit) -> CheckHit {
        let check = &CHECKS[h.check];
        CheckHit {
            id: check.id,
            name: check.name,
            description: check.description,
            span: h.span,
            secret: h.secret,
            decoded: h.decoded,
            confidence: h.confidence,
            context: Some(h.context),
            identity: h.identity,
        }
    }
}

impl From<CredHit> for CheckHit {
    fn from(h: CredHit) -> CheckHit {
        let check = &credfiles::CHECKS[h.check];
        CheckHit {
            id: check.id,
            name: check.name,
            description: check.description,
            span: h.span,
            secret: h.secret,
            decoded: h.decoded,
            confidence: credfiles::CONFIDENCE,
            context: None,
            identity: String::new(),
        }
    }
}

/// A whole-file credential store (PKCS#12, DBeaver's encrypted store): reported as a
/// file, by digest, whether its bytes read as text or not. Every source asks this before
/// it skips a blob as binary.
pub fn scan_whole_file_store(
    data: &[u8],
    provenance: &Provenance,
    config: &ScanConfig,
) -> Option<BlobReport> {
    let store = credfiles::binary_store(&provenance.rel_path, data, &config.credfiles)?;
    let check = &credfiles::CHECKS[store.check];
    if credfiles::CONFIDENCE < config.engine.min_confidence {
        return Some(BlobReport::default());
    }
    if config
        .filters
        .allows_secret(check.id, store.digest.as_bytes())
    {
        return Some(BlobReport {
            suppressed_config: 1,
            ..BlobReport::default()
        });
    }
    let finding = Finding {
        rule_id: check.id.to_string(),
        rule_name: check.name.to_string(),
        description: Some(check.description.to_string()),
        confidence: credfiles::CONFIDENCE,
        path: provenance.path.clone(),
        line: 1,
        column: 1,
        end_line: 1,
        end_column: 1,
        secret: if config.redact {
            redact(&store.digest)
        } else {
            store.digest.clone()
        },
        redacted: config.redact,
        entropy: 0.0,
        fingerprint: fingerprint(check.id, store.digest.as_bytes(), &provenance.rel_path),
        decoded: Vec::new(),
        snippet: format!(
            "{} ({} bytes, sha256 {})",
            store.format,
            data.len(),
            if config.redact {
                redact(&store.digest)
            } else {
                store.digest.clone()
            }
        ),
        git: provenance.git.clone(),
        k8s: None,
    };
    Some(BlobReport {
        findings: vec![finding],
        ..BlobReport::default()
    })
}

/// A structural check's value as an engine match, for the snippet code.
fn structural_match(span: Range<usize>, secret: Vec<u8>) -> Match {
    Match {
        rule: usize::MAX,
        inner: span.clone(),
        span,
        secret,
        confidence: Confidence::Low,
        entropy: 0.0,
        decoded: Vec::new(),
    }
}

/// Where a finding sits, and how it shows.
struct Located {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    secret: String,
    snippet: String,
}

/// Findings from many blobs, and the manifest facts that link them; `finish` correlates
/// the facts, sorts, and hands the findings over.
#[derive(Default)]
pub struct Collector {
    findings: Mutex<Vec<Finding>>,
    facts: Mutex<k8s::Facts>,
    explained: Mutex<Vec<Explained>>,
}

impl Collector {
    /// Add a blob's findings and facts; returns how many findings there are now when it
    /// added any.
    pub fn add(&self, report: BlobReport) -> Option<usize> {
        if !report.explained.is_empty() {
            self.explained
                .lock()
                .expect("explained lock")
                .extend(report.explained);
        }
        if !report.facts.is_empty() {
            self.facts.lock().expect("facts lock").merge(report.facts);
        }
        if report.findings.is_empty() {
            return None;
        }
        let mut all = self.findings.lock().expect("findings lock");
        all.extend(report.findings);
        Some(all.len())
    }

    /// What `--explain` gathered, in order of path and position.
    pub fn take_explained(&self) -> Vec<Explained> {
        let mut explained = std::mem::take(&mut *self.explained.lock().expect("explained lock"));
        explained.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        explained
    }

    pub fn len(&self) -> usize {
        self.findings.lock().map(|f| f.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn finish(self, config: &ScanConfig) -> Vec<Finding> {
        let mut findings = self.findings.into_inner().expect("findings lock");
        let facts = self.facts.into_inner().expect("facts lock");
        k8s::cluster::correlate(
            &mut findings,
            facts,
            &config.k8s,
            config.engine.min_confidence,
        );
        sort_findings(&mut findings);
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Blob;

    fn blob(text: &str) -> Blob {
        Blob {
            bytes: text.as_bytes().to_vec(),
            provenance: Provenance {
                path: "x.env".into(),
                rel_path: "x.env".into(),
                git: None,
            },
        }
    }

    #[test]
    fn snippets_mask_every_secret_on_the_line() {
        let engine = crate::engine::tests::engine(EngineOptions::default());
        let token = crate::engine::tests::token("Zq3T9xLm2VbN8cR4kW7yHp1sDf6GjA");
        let text = format!("GITHUB_TOKEN={token} password=Tr0ub4dor&3x!9\n");
        let b = blob(&text);
        let findings = scan_blob(
            &engine,
            &b.bytes,
            &b.provenance,
            &ScanConfig::default(),
            &mut Scratch::default(),
        )
        .findings;
        assert_eq!(findings.len(), 2);
        for f in &findings {
            assert!(!f.snippet.contains("xLm2VbN8cR4kW7"), "{}", f.snippet);
            assert!(!f.snippet.contains("b4dor&3x!9"), "{}", f.snippet);
            assert!(f.secret.ends_with('…'));
        }
    }
}
