//! Commit and annotated tag messages as a source. A message is pushed data that every
//! `git log` and `git show` prints, so a token written into one leaks like a token in a
//! file. Each message is scanned as a small text of its own, at a fixed path
//! ([`COMMIT_MESSAGE_PATH`], [`TAG_MESSAGE_PATH`]) with the commit or tag in its `git`
//! context: the path keeps fingerprints (rule, secret, path) stable for baselines, the
//! object id says where the text is. A message belongs to one commit, so the added-lines
//! filter does not apply to it.
//!
//! Messages are read after the plan (the walk only keeps each commit's summary), in
//! parallel, and scanned as they are read, so memory does not grow with the history.

use std::cell::RefCell;
use std::collections::HashSet;

use gix::bstr::ByteSlice;
use gix::objs::{CommitRef, Kind, TagRef};
use gix::ObjectId;
use rayon::prelude::*;

use crate::engine::{Engine, ScratchPool};
use crate::finding::GitContext;
use crate::scan::{scan_blob, BlobReport, ScanConfig};
use crate::source::git::{self, HistoryPlan};
use crate::source::Provenance;

/// The path a commit message's findings are reported at.
pub const COMMIT_MESSAGE_PATH: &str = "<commit message>";
/// The path an annotated tag message's findings are reported at.
pub const TAG_MESSAGE_PATH: &str = "<tag message>";

/// Object cache per worker: commits are small and read once.
const CACHE_PER_THREAD: usize = 1 << 20;

/// Commits a worker takes at a time.
const COMMIT_CHUNK: usize = 64;

/// What scanning texts that are not files (messages, content refs point at) gave.
#[derive(Debug, Default)]
pub struct ExtraScan {
    /// One report per text with findings or manifest facts.
    pub reports: Vec<BlobReport>,
    /// Objects that could not be read: each one leaves the scan incomplete.
    pub warnings: Vec<String>,
    /// Texts over the size limit, not scanned (the caller decides what that means).
    pub too_large: Vec<String>,
    /// How many texts were scanned, and their bytes.
    pub texts: u64,
    pub bytes: u64,
}

impl ExtraScan {
    pub fn complete(&self) -> bool {
        self.warnings.is_empty()
    }

    pub fn merge(&mut self, other: ExtraScan) {
        self.reports.extend(other.reports);
        self.warnings.extend(other.warnings);
        self.too_large.extend(other.too_large);
        self.texts += other.texts;
        self.bytes += other.bytes;
    }

    pub(crate) fn add_text(&mut self, report: BlobReport, bytes: usize) {
        self.texts += 1;
        self.bytes += bytes as u64;
        // What a marker suppressed is kept too: a server audits it, or ignores markers.
        if !(report.findings.is_empty()
            && report.facts.is_empty()
            && report.inline_allowed.is_empty())
        {
            self.reports.push(report);
        }
    }
}

/// Scan the message of every commit the plan walked (boundary commits are not part of
/// the scanned set).
pub fn scan_commit_messages(
    ts: &gix::ThreadSafeRepository,
    plan: &HistoryPlan,
    engine: &Engine,
    config: &ScanConfig,
) -> ExtraScan {
    let handles: thread_local::ThreadLocal<RefCell<(gix::Repository, Vec<u8>)>> =
        thread_local::ThreadLocal::new();
    let scratches = ScratchPool::default();
    let commits: Vec<&git::CommitInfo> = plan.walked().collect();
    commits
        .par_chunks(COMMIT_CHUNK)
        .map(|chunk| {
            let cell = handles
                .get_or(|| RefCell::new((git::thread_handle(ts, CACHE_PER_THREAD), Vec::new())));
            let (repo, buffer) = &mut *cell.borrow_mut();
            let mut scan = ExtraScan::default();
            for commit in chunk {
                let message = match read_commit_message(repo, commit.id, buffer) {
                    Ok(m) => m,
                    Err(e) => {
                        scan.warnings.push(e);
                        continue;
                    }
                };
                if message.len() as u64 > config.max_file_size {
                    scan.too_large.push(format!(
                        "the message of commit {} ({} bytes) is over the size limit: not scanned",
                        commit.id,
                        message.len()
                    ));
                    continue;
                }
                let provenance = Provenance {
                    path: COMMIT_MESSAGE_PATH.into(),
                    rel_path: COMMIT_MESSAGE_PATH.into(),
                    git: Some(GitContext {
                        commit: commit.id.to_string(),
                        blob: String::new(),
                        author_name: commit.author_name.clone(),
                        author_email: commit.author_email.clone(),
                        date: commit.date.clone(),
                        summary: commit.summary.clone(),
                        other_locations: 0,
                    }),
                };
                let report = scratches.with(|s| scan_blob(engine, message, &provenance, config, s));
                scan.add_text(report, message.len());
            }
            scan
        })
        .reduce(ExtraScan::default, |mut a, b| {
            a.merge(b);
            a
        })
}

fn read_commit_message<'a>(
    repo: &gix::Repository,
    id: ObjectId,
    buffer: &'a mut Vec<u8>,
) -> Result<&'a [u8], String> {
    use gix::objs::Find as _;
    let data = match repo.objects.try_find(&id, buffer) {
        Ok(Some(d)) if d.kind == Kind::Commit => d,
        Ok(Some(d)) => return Err(format!("{id} is a {}, not a commit", d.kind)),
        Ok(None) => return Err(format!("missing commit {id}")),
        Err(e) => return Err(format!("cannot read commit {id}: {e}")),
    };
    let commit = CommitRef::from_bytes(data.data, repo.object_hash())
        .map_err(|e| format!("corrupt commit {id}: {e}"))?;
    Ok(commit.message.as_bytes())
}

/// An annotated tag object to scan, with the ref that led to it.
#[derive(Debug, Clone)]
pub struct TagObject {
    pub ref_name: String,
    pub id: ObjectId,
}

/// Where a chain of annotated tags ends.
#[derive(Debug, Clone)]
pub struct Peeled {
    /// The tag objects on the way, outermost first (empty for a lightweight ref).
    pub tags: Vec<ObjectId>,
    pub target: ObjectId,
    pub kind: Kind,
}

/// Follow annotated tags from `id` to the object they end at. A loop or a chain longer
/// than any real one is an error, as is an object that cannot be read.
pub fn peel(repo: &gix::Repository, id: ObjectId) -> Result<Peeled, String> {
    use gix::objs::Find as _;
    let mut tags = Vec::new();
    let mut seen = HashSet::new();
    let mut current = id;
    let mut buffer = Vec::new();
    loop {
        let data = repo
            .objects
            .try_find(&current, &mut buffer)
            .map_err(|e| format!("cannot read object {current}: {e}"))?
            .ok_or_else(|| format!("missing object {current}"))?;
        if data.kind != Kind::Tag {
            return Ok(Peeled {
                tags,
                target: current,
                kind: data.kind,
            });
        }
        if !seen.insert(current) {
            return Err(format!("tag {current} points back to itself"));
        }
        let tag = TagRef::from_bytes(data.data, repo.object_hash())
            .map_err(|e| format!("corrupt tag {current}: {e}"))?;
        tags.push(current);
        current = tag.target();
    }
}

/// Scan the message of each annotated tag once.
pub fn scan_tag_messages(
    repo: &gix::Repository,
    tags: &[TagObject],
    engine: &Engine,
    config: &ScanConfig,
) -> ExtraScan {
    use gix::objs::Find as _;
    let scratches = ScratchPool::default();
    let mut scan = ExtraScan::default();
    let mut seen = HashSet::new();
    let mut buffer = Vec::new();
    for tag in tags {
        if !seen.insert(tag.id) {
            continue;
        }
        let id = tag.id;
        let data = match repo.objects.try_find(&id, &mut buffer) {
            Ok(Some(d)) if d.kind == Kind::Tag => d,
            Ok(Some(d)) => {
                scan.warnings
                    .push(format!("{id} is a {}, not a tag", d.kind));
                continue;
            }
            Ok(None) => {
                scan.warnings.push(format!("missing tag {id}"));
                continue;
            }
            Err(e) => {
                scan.warnings.push(format!("cannot read tag {id}: {e}"));
                continue;
            }
        };
        let parsed = match TagRef::from_bytes(data.data, repo.object_hash()) {
            Ok(t) => t,
            Err(e) => {
                scan.warnings.push(format!("corrupt tag {id}: {e}"));
                continue;
            }
        };
        let message = parsed.message.as_bytes();
        if message.len() as u64 > config.max_file_size {
            scan.too_large.push(format!(
                "the message of tag {id} ({}) is over the size limit: not scanned",
                tag.ref_name
            ));
            continue;
        }
        let (author_name, author_email, date) = match parsed.tagger().ok().flatten() {
            Some(t) => (
                t.name.to_str_lossy().trim().to_string(),
                t.email.to_str_lossy().trim().to_string(),
                t.time()
                    .ok()
                    .and_then(|t| t.format(gix::date::time::format::ISO8601_STRICT).ok())
                    .unwrap_or_default(),
            ),
            None => Default::default(),
        };
        // A tag of a commit names it; a tag of other content has no commit.
        let commit = peel(repo, id)
            .ok()
            .filter(|p| p.kind == Kind::Commit)
            .map(|p| p.target.to_string())
            .unwrap_or_default();
        let provenance = Provenance {
            path: TAG_MESSAGE_PATH.into(),
            rel_path: TAG_MESSAGE_PATH.into(),
            git: Some(GitContext {
                commit,
                blob: id.to_string(),
                author_name,
                author_email,
                date,
                summary: format!("tag {}", tag.ref_name),
                other_locations: 0,
            }),
        };
        let message = message.to_vec();
        let report = scratches.with(|s| scan_blob(engine, &message, &provenance, config, s));
        scan.add_text(report, message.len());
    }
    scan
}

/// Everything a history scan reads besides the blobs of its commits: the messages of
/// the scanned commits and, for an audit of every ref, the annotated tags' messages.
/// (The content of refs that point at a tree or a blob joins the plan's blobs.)
pub fn scan_history_texts(
    ts: &gix::ThreadSafeRepository,
    plan: &HistoryPlan,
    engine: &Engine,
    config: &ScanConfig,
) -> ExtraScan {
    let repo = git::thread_handle(ts, CACHE_PER_THREAD);
    let mut scan = scan_commit_messages(ts, plan, engine, config);
    scan.merge(scan_tag_messages(
        &repo,
        &plan.annotated_tags,
        engine,
        config,
    ));
    scan
}

/// A push's texts besides its blobs: the pushed commits' messages, the pushed annotated
/// tags' messages, and the content of pushed refs to a tree or a blob. `known`: objects
/// the server had before the push (not scanned again).
pub fn scan_push_texts(
    ts: &gix::ThreadSafeRepository,
    plan: &HistoryPlan,
    tags: &[TagObject],
    content_refs: &[crate::source::ref_content::ContentRef],
    known: &dyn Fn(&ObjectId) -> bool,
    engine: &Engine,
    config: &ScanConfig,
) -> ExtraScan {
    let repo = git::thread_handle(ts, CACHE_PER_THREAD);
    let mut scan = scan_commit_messages(ts, plan, engine, config);
    let new_tags: Vec<TagObject> = tags.iter().filter(|t| !known(&t.id)).cloned().collect();
    scan.merge(scan_tag_messages(&repo, &new_tags, engine, config));
    if !content_refs.is_empty() {
        let pushed: HashSet<ObjectId> = plan.blobs.iter().map(|b| b.id).collect();
        let skip = |id: &ObjectId| pushed.contains(id) || known(id);
        scan.merge(crate::source::ref_content::scan_ref_content(
            &repo,
            content_refs,
            &skip,
            engine,
            config,
        ));
    }
    scan
}
