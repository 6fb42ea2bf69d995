//! `tollgate staged`: the pre-commit scan. It reads what the index holds for the next
//! commit (`source::index`), scans each staged blob that differs from HEAD's, and keeps
//! only findings on lines the blob adds against HEAD's version (`added_lines`), so that a
//! secret already committed does not stop unrelated work (`tollgate git` reports that
//! one). Unstaged edits in the work tree are never read.
//!
//! Staged content has no commit yet: findings carry no `git` object, and their paths are
//! relative to the top of the work tree whatever directory the scan starts from.

use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use rayon::prelude::*;

use crate::added_lines;
use crate::engine::ScratchPool;
use crate::scan::{
    build_engine, outcome, rule_count, scan_blob, Collector, Counters, Diagnostics, ScanConfig,
    ScanOutcome,
};
use crate::source::git::{self, BlobRead};
use crate::source::index::{staged_changes, StagedBlob};
use crate::source::sniff::{sniff, Sniffed};
use crate::source::Provenance;

/// Delta-base cache per worker: a commit's worth of blobs, mostly loose objects.
const CACHE_PER_THREAD: usize = 8 << 20;

/// Scan the staged changes of the repository at or above `repo_path`. With
/// `added_only`, a finding counts only on a line the staged blob adds.
pub fn scan_staged(
    config: &ScanConfig,
    repo_path: &Path,
    added_only: bool,
) -> anyhow::Result<ScanOutcome> {
    let started = Instant::now();
    let shared = git::open(repo_path)?;
    let repo = git::thread_handle(&shared, CACHE_PER_THREAD);
    let (engine, changes) = std::thread::scope(|s| {
        let engine = s.spawn(|| build_engine(config));
        let changes = staged_changes(&repo);
        (engine.join().expect("rule loading does not panic"), changes)
    });
    let (engine, changes) = (engine?, changes?);
    // A commit's worth of files takes no time worth a progress line.
    let diag = Diagnostics::new(false, config.verbose);
    let counters = Counters::default();
    for w in &changes.warnings {
        counters.warnings.fetch_add(1, Ordering::Relaxed);
        diag.warn(w);
    }
    // `git commit` refuses to record a conflict; once resolved and added, it is scanned.
    for path in &changes.conflicted {
        counters.warnings.fetch_add(1, Ordering::Relaxed);
        diag.warn(&format!(
            "{path}: unmerged (a conflict is not resolved): not scanned; `git add` it once resolved"
        ));
    }
    for path in &changes.intent_to_add {
        diag.note(&format!(
            "skipped {path}: added with `git add -N`, no content staged yet"
        ));
    }
    for path in &changes.submodules {
        diag.note(&format!("skipped {path}: submodule"));
    }
    if changes.unborn {
        diag.note("no commit yet: everything staged is new");
    }

    let collector = Collector::default();
    let scratches = ScratchPool::default();
    // A worker's handle, and its buffers for the staged blob and for HEAD's.
    type Worker = RefCell<(gix::Repository, Vec<u8>, Vec<u8>)>;
    let handles: thread_local::ThreadLocal<Worker> = thread_local::ThreadLocal::new();
    changes.blobs.par_iter().for_each(|staged| {
        let cell = handles.get_or(|| {
            RefCell::new((
                git::thread_handle(&shared, CACHE_PER_THREAD),
                Vec::new(),
                Vec::new(),
            ))
        });
        let (handle, buffer, previous_buffer) = &mut *cell.borrow_mut();
        scan_one(
            staged,
            handle,
            buffer,
            previous_buffer,
            &engine,
            &scratches,
            config,
            added_only,
            &counters,
            &collector,
            &diag,
        );
    });
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
    outcome.summary.skipped.submodule = changes.submodules.len() as u64;
    Ok(outcome)
}

#[allow(clippy::too_many_arguments)]
fn scan_one(
    staged: &StagedBlob,
    repo: &gix::Repository,
    buffer: &mut Vec<u8>,
    previous_buffer: &mut Vec<u8>,
    engine: &crate::engine::Engine,
    scratches: &ScratchPool,
    config: &ScanConfig,
    added_only: bool,
    counters: &Counters,
    collector: &Collector,
    diag: &Diagnostics,
) {
    let path = &staged.path;
    if config.filters.skips_path(path) {
        counters.allow_paths.fetch_add(1, Ordering::Relaxed);
        diag.note(&format!("skipped {path}: allow-paths in the config"));
        return;
    }
    let data = match git::read_blob(repo, &staged.id, config.max_file_size, buffer) {
        BlobRead::Data(data) => data,
        BlobRead::TooLarge(size) => {
            counters.too_large.fetch_add(1, Ordering::Relaxed);
            diag.note(&format!(
                "skipped {path}: {size} bytes is over --max-file-size"
            ));
            return;
        }
        BlobRead::Missing => {
            counters.unreadable.fetch_add(1, Ordering::Relaxed);
            counters.warnings.fetch_add(1, Ordering::Relaxed);
            diag.warn(&format!(
                "{path}: the staged blob {} is missing from the object database",
                staged.id
            ));
            return;
        }
        BlobRead::Error(e) => {
            counters.unreadable.fetch_add(1, Ordering::Relaxed);
            counters.warnings.fetch_add(1, Ordering::Relaxed);
            diag.warn(&format!(
                "{path}: cannot read the staged blob {}: {e}",
                staged.id
            ));
            return;
        }
    };
    let provenance = Provenance {
        path: path.clone(),
        rel_path: path.clone(),
        git: None,
    };
    if let Some(report) = crate::scan::scan_whole_file_store(data, &provenance, config) {
        counters.files.fetch_add(1, Ordering::Relaxed);
        counters
            .bytes
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        counters.add_suppressed(&report);
        collector.add(report);
        return;
    }
    let views = match sniff(data) {
        Sniffed::Text(views) => views,
        Sniffed::LfsPointer => {
            counters.lfs_pointer.fetch_add(1, Ordering::Relaxed);
            diag.note(&format!("skipped {path}: Git LFS pointer"));
            return;
        }
        Sniffed::Binary => {
            counters.binary.fetch_add(1, Ordering::Relaxed);
            diag.note(&format!("skipped {path}: binary"));
            return;
        }
    };
    counters.files.fetch_add(1, Ordering::Relaxed);
    counters
        .bytes
        .fetch_add(data.len() as u64, Ordering::Relaxed);
    for view in &views {
        let mut report = scratches.with(|s| scan_blob(engine, &view.text, &provenance, config, s));
        counters.add_suppressed(&report);
        if let Some(err) = &report.parse_error {
            diag.note(&format!(
                "{path}: not valid YAML ({err}); Kubernetes context read from its lines"
            ));
        }
        if added_only {
            let dropped = added_lines::keep_added_against(
                repo,
                &staged.previous,
                &view.text,
                config.max_file_size,
                previous_buffer,
                &mut report,
                &|old| scratches.with(|s| scan_blob(engine, old, &provenance, config, s)),
            );
            counters.not_added.fetch_add(dropped, Ordering::Relaxed);
        }
        collector.add(report);
    }
}
