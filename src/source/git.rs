//! Git history as a source. The plan is built in three steps:
//!
//! 1. **Commits**: every commit reachable from the selected tips and not from the excluded
//!    ones, read once with gix, then ordered parents before children (older first among
//!    commits that are ready at the same time).
//! 2. **Introductions**: each commit's tree is compared with its parents' trees, skipping
//!    every subtree whose id did not change; a blob at a path that no parent has is
//!    *introduced* by that commit. Commits are compared in parallel, one gix handle per
//!    worker, newest first (delta chains run from newer to older objects, so the delta
//!    cache then holds each base), and merged so that each unique blob is attributed to
//!    the first commit (parents before children) that introduced it, and counts the
//!    other places it was introduced.
//! 3. **Order**: unique blobs are sorted by their place in the pack files, so that the
//!    workers read each pack front to back and delta bases are still in the cache.
//!
//! Missing and corrupt objects are warnings with the object id; they make the plan (and
//! the audit) incomplete, never abort it.

use std::cell::RefCell;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc as Rc;

use gix::bstr::ByteSlice;
use gix::objs::tree::EntryKind;
use gix::objs::{CommitRef, Find as _, FindHeader as _, Kind, TreeRefIter};
use gix::ObjectId;

use crate::finding::GitContext;
use crate::source::messages::TagObject;
use rayon::prelude::*;

mod tips;
use tips::select;
pub use tips::{peel_to_commit, ref_tips};

/// Deeper trees are reported, not descended (Git's own limit is lower).
const MAX_TREE_DEPTH: usize = 4096;

/// Commits compared per parallel batch: bounds the changes held in memory at once.
const DIFF_BATCH: usize = 512;

/// What to scan.
#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    /// Revisions in git's syntax (`main`, `^v1.0`, `v1.0..main`, `a...b`); empty: every
    /// ref, HEAD included.
    pub revisions: Vec<String>,
    /// Also scan blobs that no commit reaches.
    pub unreachable: bool,
    /// Object and delta caches, per worker thread, in bytes.
    pub cache_per_thread: usize,
    /// Paths not to scan (the config's `allow-paths`). A blob is attributed to its first
    /// introduction at a path that is scanned, so the same content elsewhere is not lost.
    pub filters: std::sync::Arc<crate::config::Filters>,
    /// Keep only findings on lines the introducing commit added (`crate::added_lines`).
    pub added_lines_only: bool,
}

/// A commit of the walk. Boundary commits (parents of the range that are outside it) are
/// kept only for their tree, which the first commits of the range are compared with.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub id: ObjectId,
    pub tree: ObjectId,
    pub parents: Vec<u32>,
    pub author_name: String,
    pub author_email: String,
    pub date: String,
    pub summary: String,
    time: i64,
    boundary: bool,
}

/// A unique blob to scan, with the first place it was introduced.
#[derive(Debug, Clone)]
pub struct BlobRecord {
    pub id: ObjectId,
    /// Index into `HistoryPlan::commits`; `None` for an unreachable blob.
    pub commit: Option<u32>,
    /// Index into `HistoryPlan::paths`.
    pub path: u32,
    /// How many (commit, path) introductions share this blob, the first included.
    pub introductions: u32,
    /// At the first introduction, the blob the file held before (a modified file), in
    /// the first parent; a merge's other parents are in `HistoryPlan::merge_previous`.
    pub previous: Option<ObjectId>,
}

#[derive(Debug, Default)]
pub struct HistoryPlan {
    pub commits: Vec<CommitInfo>,
    pub paths: Vec<String>,
    /// In pack order.
    pub blobs: Vec<BlobRecord>,
    pub refs: u64,
    pub shallow: bool,
    pub object_format: String,
    /// Submodule links introduced (not scanned: their content lives in another repository).
    pub submodules: u64,
    /// Introductions at paths the config says not to scan.
    pub allow_paths: u64,
    /// Missing or corrupt objects, unreadable packs: one message per problem.
    pub warnings: Vec<String>,
    /// Whether everything asked for could be read.
    pub complete: bool,
    /// Trees and blobs that a ref or a named revision points to (through tags) rather
    /// than a commit, with the name: content outside any commit, scanned at that name.
    ref_objects: Vec<(String, Kind, ObjectId)>,
    /// For a blob first introduced by a merge: the blobs at its path in the parents
    /// other than the first (rare, so kept aside rather than in every `BlobRecord`).
    pub merge_previous: HashMap<ObjectId, Vec<ObjectId>>,
    /// Annotated tag objects the refs lead through (`ref_tips`): their messages are
    /// scanned by `messages`.
    pub annotated_tags: Vec<TagObject>,
}

impl HistoryPlan {
    pub fn walked_commits(&self) -> usize {
        self.walked().count()
    }

    /// The commits of the scanned set (boundary commits left out).
    pub fn walked(&self) -> impl Iterator<Item = &CommitInfo> {
        self.commits.iter().filter(|c| !c.boundary)
    }

    /// The path a blob is reported at; an unreachable blob has none of its own, a blob
    /// a ref names (or holds in the tree it names) is reported at the ref's name.
    pub fn display_path(&self, record: &BlobRecord) -> String {
        let path = &self.paths[record.path as usize];
        match record.commit {
            None if path.is_empty() => format!("unreachable/{}", record.id),
            _ => path.clone(),
        }
    }

    /// The blobs the file held, at the blob's first introduction, in each parent that had
    /// one; empty for a new file.
    pub fn previous_blobs(&self, record: &BlobRecord) -> Vec<ObjectId> {
        let mut previous: Vec<ObjectId> = record.previous.into_iter().collect();
        if let Some(others) = self.merge_previous.get(&record.id) {
            previous.extend(others.iter().copied());
        }
        previous
    }

    /// A finding's `git` object for a blob of this plan.
    pub fn git_context(&self, record: &BlobRecord) -> GitContext {
        let commit = record.commit.map(|c| &self.commits[c as usize]);
        GitContext {
            commit: commit.map(|c| c.id.to_string()).unwrap_or_default(),
            blob: record.id.to_string(),
            author_name: commit.map(|c| c.author_name.clone()).unwrap_or_default(),
            author_email: commit.map(|c| c.author_email.clone()).unwrap_or_default(),
            date: commit.map(|c| c.date.clone()).unwrap_or_default(),
            summary: commit.map(|c| c.summary.clone()).unwrap_or_default(),
            other_locations: record.introductions.saturating_sub(1) as usize,
        }
    }
}

/// Open a repository: a work tree (or a directory in it), a bare repository, or a linked
/// worktree.
pub fn open(path: &Path) -> anyhow::Result<gix::ThreadSafeRepository> {
    if !path.exists() {
        anyhow::bail!("{}: no such file or directory", path.display());
    }
    gix::ThreadSafeRepository::discover(path)
        .map_err(|e| anyhow::anyhow!("{}: not a git repository ({e})", path.display()))
}

/// A thread's own handle on the repository, with a delta-base cache of `cache_bytes`.
/// Small is right: blobs are read in pack order and trees newest first, so a delta's
/// base is almost always one of the last objects read, and every object put in the
/// cache is a copy.
pub fn thread_handle(repo: &gix::ThreadSafeRepository, cache_bytes: usize) -> gix::Repository {
    let mut r = repo.to_thread_local();
    // Objects are read through `objects` directly; the decoded-object cache would only
    // hold copies.
    r.object_cache_size(0);
    let pack_cache = cache_bytes;
    r.objects.set_pack_cache(move || {
        Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
            pack_cache,
        ))
    });
    r.objects.prevent_pack_unload();
    r
}

/// Read the history and decide what to scan, in which order.
pub fn plan(
    ts: &gix::ThreadSafeRepository,
    options: &HistoryOptions,
    on_commits: &(dyn Fn(usize) + Sync),
) -> anyhow::Result<HistoryPlan> {
    let repo = thread_handle(ts, options.cache_per_thread);
    let mut plan = HistoryPlan {
        object_format: match repo.object_hash() {
            gix::hash::Kind::Sha1 => "sha1".into(),
            _ => "sha256".into(),
        },
        complete: true,
        ..HistoryPlan::default()
    };
    let shallow: HashSet<ObjectId> = match repo.shallow_commits() {
        Ok(Some(commits)) => commits.iter().copied().collect(),
        Ok(None) => HashSet::new(),
        Err(e) => {
            plan.warn(format!("cannot read the shallow file: {e}"));
            HashSet::new()
        }
    };
    plan.shallow = !shallow.is_empty();
    let (tips, hidden) = select(&repo, options, &mut plan)?;
    walk(
        &repo,
        &tips,
        &hidden,
        &|_| false,
        &shallow,
        &mut plan,
        on_commits,
    );
    let order = topological_order(&plan.commits);
    let filters = &options.filters;
    let skip = |path: &[u8]| {
        filters.has_path_filters() && filters.skips_path(&String::from_utf8_lossy(path))
    };
    introductions(ts, options.cache_per_thread, &order, &skip, &mut plan);
    add_ref_objects(&repo, options.cache_per_thread, &mut plan);
    if options.unreachable {
        add_unreachable(&repo, &mut plan);
    }
    sort_by_pack_location(&repo, &mut plan.blobs);
    Ok(plan)
}

impl HistoryPlan {
    fn warn(&mut self, message: String) {
        self.warnings.push(message);
        self.complete = false;
    }

    fn intern(&mut self, index: &mut HashMap<Vec<u8>, u32>, path: &[u8]) -> u32 {
        if let Some(&i) = index.get(path) {
            return i;
        }
        let i = self.paths.len() as u32;
        self.paths.push(String::from_utf8_lossy(path).into_owned());
        index.insert(path.to_vec(), i);
        i
    }
}

/// Read every commit reachable from `tips` but not from `hidden`.
/// `known`: commits the caller already has scanned (a push's pre-existing history); the
/// walk stops at them as at excluded ones.
fn walk(
    repo: &gix::Repository,
    tips: &[ObjectId],
    hidden: &[ObjectId],
    known: &dyn Fn(&ObjectId) -> bool,
    shallow: &HashSet<ObjectId>,
    plan: &mut HistoryPlan,
    on_commits: &(dyn Fn(usize) + Sync),
) {
    let mut buf = Vec::new();
    // Everything reachable from an excluded commit.
    let mut excluded: HashSet<ObjectId> = HashSet::new();
    let mut stack: Vec<ObjectId> = hidden.to_vec();
    while let Some(id) = stack.pop() {
        if !excluded.insert(id) || shallow.contains(&id) {
            continue;
        }
        match repo.objects.try_find(&id, &mut buf) {
            Ok(Some(data)) if data.kind == Kind::Commit => {
                if let Ok(c) = CommitRef::from_bytes(data.data, repo.object_hash()) {
                    stack.extend(c.parents());
                }
            }
            // A gap below the excluded side only makes the exclusion smaller.
            _ => {}
        }
    }

    let mut index: HashMap<ObjectId, u32> = HashMap::new();
    let mut stack: Vec<(ObjectId, bool)> = tips
        .iter()
        .filter(|&t| !excluded.contains(t) && !known(t))
        .map(|&t| (t, false))
        .collect();
    // (child, parent id) pairs, resolved to indices once every commit is read.
    let mut edges: Vec<(u32, ObjectId)> = Vec::new();
    while let Some((id, boundary)) = stack.pop() {
        if index.contains_key(&id) {
            continue;
        }
        let data = match repo.objects.try_find(&id, &mut buf) {
            Ok(Some(data)) if data.kind == Kind::Commit => data,
            Ok(Some(data)) => {
                plan.warn(format!("{id} is a {}, not a commit", data.kind));
                continue;
            }
            Ok(None) => {
                plan.warn(format!("missing commit {id}"));
                continue;
            }
            Err(e) => {
                plan.warn(format!("cannot read commit {id}: {e}"));
                continue;
            }
        };
        let commit = match CommitRef::from_bytes(data.data, repo.object_hash()) {
            Ok(c) => c,
            Err(e) => {
                plan.warn(format!("corrupt commit {id}: {e}"));
                continue;
            }
        };
        let idx = plan.commits.len() as u32;
        index.insert(id, idx);
        let mut info = CommitInfo {
            id,
            tree: commit.tree(),
            parents: Vec::new(),
            author_name: String::new(),
            author_email: String::new(),
            date: String::new(),
            summary: String::new(),
            time: 0,
            boundary,
        };
        if !boundary {
            if let Ok(author) = commit.author() {
                info.author_name = author.name.to_str_lossy().trim().to_string();
                info.author_email = author.email.to_str_lossy().trim().to_string();
                if let Ok(time) = author.time() {
                    info.time = time.seconds;
                    info.date = time
                        .format(gix::date::time::format::ISO8601_STRICT)
                        .unwrap_or_default();
                }
            }
            info.summary = commit.message_summary().to_str_lossy().into_owned();
            if !shallow.contains(&id) {
                for parent in commit.parents() {
                    edges.push((idx, parent));
                    stack.push((parent, excluded.contains(&parent) || known(&parent)));
                }
            }
            on_commits(plan.commits.len() + 1);
        }
        plan.commits.push(info);
    }
    for (child, parent) in edges {
        // A parent that could not be read was warned about; the child is then compared
        // with the parents that remain (or with nothing).
        if let Some(&p) = index.get(&parent) {
            plan.commits[child as usize].parents.push(p);
        }
    }
}

/// Commits (boundary commits left out) ordered parents first; among commits whose
/// parents are all done, the oldest first.
fn topological_order(commits: &[CommitInfo]) -> Vec<u32> {
    let mut pending = vec![0usize; commits.len()];
    let mut children: Vec<Vec<u32>> = vec![Vec::new(); commits.len()];
    for (i, c) in commits.iter().enumerate() {
        if c.boundary {
            continue;
        }
        for &p in &c.parents {
            if !commits[p as usize].boundary {
                pending[i] += 1;
                children[p as usize].push(i as u32);
            }
        }
    }
    let mut ready: BinaryHeap<std::cmp::Reverse<(i64, u32)>> = commits
        .iter()
        .enumerate()
        .filter(|(i, c)| !c.boundary && pending[*i] == 0)
        .map(|(i, c)| std::cmp::Reverse((c.time, i as u32)))
        .collect();
    let mut order = Vec::with_capacity(commits.len());
    while let Some(std::cmp::Reverse((_, i))) = ready.pop() {
        order.push(i);
        for &child in &children[i as usize] {
            pending[child as usize] -= 1;
            if pending[child as usize] == 0 {
                ready.push(std::cmp::Reverse((commits[child as usize].time, child)));
            }
        }
    }
    order
}

/// What a commit's tree adds over one parent's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Change {
    pub path: Vec<u8>,
    pub id: ObjectId,
    pub submodule: bool,
    /// The blob at the same path in the parent compared with, when there was one.
    pub previous: Option<ObjectId>,
    /// In a merge, the blobs at the same path in the other parents that had one.
    pub other_previous: Vec<ObjectId>,
}

/// Compare every commit with its parents in parallel batches and record, in order, the
/// first introduction of each blob.
fn introductions(
    ts: &gix::ThreadSafeRepository,
    cache_per_thread: usize,
    order: &[u32],
    skip: &dyn Fn(&[u8]) -> bool,
    plan: &mut HistoryPlan,
) {
    let handles: thread_local::ThreadLocal<RefCell<(gix::Repository, TreeCache)>> =
        thread_local::ThreadLocal::new();
    let mut blob_index: HashMap<ObjectId, u32> = HashMap::new();
    let mut path_index: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut blobs: Vec<BlobRecord> = Vec::new();
    // Newest first: packs store older versions as deltas against newer ones, so reading
    // trees in this order finds each delta's base already in the cache. Later (older)
    // introductions overwrite earlier ones, so each blob ends up attributed to the first
    // commit, in topological order, that introduced it.
    let newest_first: Vec<u32> = order.iter().rev().copied().collect();
    for batch in newest_first.chunks(DIFF_BATCH) {
        let commits = &plan.commits;
        let results: Vec<(Vec<Change>, Vec<String>)> = batch
            .par_iter()
            .map(|&c| {
                let cell = handles.get_or(|| {
                    RefCell::new((
                        thread_handle(ts, cache_per_thread / 2),
                        TreeCache::new(cache_per_thread / 2),
                    ))
                });
                let (repo, trees) = &mut *cell.borrow_mut();
                commit_changes(repo, trees, commits, c as usize)
            })
            .collect();
        for (&c, (changes, warnings)) in batch.iter().zip(results) {
            for w in warnings {
                plan.warn(w);
            }
            // In reverse too, so that of two paths in one commit the first in tree
            // order is kept.
            for change in changes.into_iter().rev() {
                if change.submodule {
                    plan.submodules += 1;
                    continue;
                }
                if skip(&change.path) {
                    plan.allow_paths += 1;
                    continue;
                }
                let path = plan.intern(&mut path_index, &change.path);
                // An older introduction replaces the record, merge parents included.
                if change.other_previous.is_empty() {
                    plan.merge_previous.remove(&change.id);
                } else {
                    plan.merge_previous
                        .insert(change.id, change.other_previous.clone());
                }
                match blob_index.get(&change.id) {
                    Some(&b) => {
                        let record = &mut blobs[b as usize];
                        record.introductions += 1;
                        record.commit = Some(c);
                        record.path = path;
                        record.previous = change.previous;
                    }
                    None => {
                        blob_index.insert(change.id, blobs.len() as u32);
                        blobs.push(BlobRecord {
                            id: change.id,
                            commit: Some(c),
                            path,
                            introductions: 1,
                            previous: change.previous,
                        });
                    }
                }
            }
        }
    }
    plan.blobs = blobs;
}

/// The blobs (and submodule links) a commit introduces: what its tree has that no parent
/// has at the same path.
pub(crate) fn commit_changes(
    repo: &gix::Repository,
    trees: &mut TreeCache,
    commits: &[CommitInfo],
    c: usize,
) -> (Vec<Change>, Vec<String>) {
    let commit = &commits[c];
    let mut warnings = Vec::new();
    let mut diff = |old: Option<ObjectId>| {
        let mut out = Vec::new();
        let mut path = Vec::new();
        if let Err(e) = diff_trees(repo, trees, old, commit.tree, &mut path, &mut out) {
            warnings.push(format!("commit {}: {e}", commit.id));
        }
        out
    };
    let parents = &commit.parents;
    let changes = match parents.split_first() {
        None => diff(None),
        Some((&first, rest)) => {
            let mut changes = diff(Some(commits[first as usize].tree));
            for &p in rest {
                if changes.is_empty() {
                    break;
                }
                // In a merge, only what is new against every parent was introduced here;
                // what each parent held at the path is kept to tell which lines are new.
                let other: HashMap<(Vec<u8>, ObjectId), Option<ObjectId>> =
                    diff(Some(commits[p as usize].tree))
                        .into_iter()
                        .map(|ch| ((ch.path, ch.id), ch.previous))
                        .collect();
                changes.retain_mut(|ch| match other.get(&(ch.path.clone(), ch.id)) {
                    Some(previous) => {
                        ch.other_previous.extend(*previous);
                        true
                    }
                    None => false,
                });
            }
            changes
        }
    };
    (changes, warnings)
}

/// Decompressed trees, per worker: a commit's tree is its children's parent tree, and
/// most subtrees are shared from commit to commit. Emptied when over its byte budget.
pub(crate) struct TreeCache {
    trees: HashMap<ObjectId, Rc<[u8]>>,
    bytes: usize,
    budget: usize,
    buffer: Vec<u8>,
}

impl TreeCache {
    pub(crate) fn new(budget: usize) -> TreeCache {
        TreeCache {
            trees: HashMap::new(),
            bytes: 0,
            budget,
            buffer: Vec::new(),
        }
    }

    fn get(&mut self, repo: &gix::Repository, id: ObjectId) -> Result<Rc<[u8]>, String> {
        if let Some(tree) = self.trees.get(&id) {
            return Ok(tree.clone());
        }
        let data = match repo.objects.try_find(&id, &mut self.buffer) {
            Ok(Some(d)) if d.kind == Kind::Tree => d,
            Ok(Some(d)) => return Err(format!("{id} is a {}, not a tree", d.kind)),
            Ok(None) => return Err(format!("missing tree {id}")),
            Err(e) => return Err(format!("cannot read tree {id}: {e}")),
        };
        let tree: Rc<[u8]> = Rc::from(data.data);
        if self.bytes + tree.len() > self.budget {
            self.trees.clear();
            self.bytes = 0;
        }
        self.bytes += tree.len() + 64;
        self.trees.insert(id, tree.clone());
        Ok(tree)
    }
}

/// Git's tree order: names compare as bytes, a tree's name as if it ended in `/`.
fn tree_order(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> std::cmp::Ordering {
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        std::cmp::Ordering::Equal => {}
        other => return other,
    }
    let tail = |name: &[u8], tree: bool| name.get(n).copied().or(tree.then_some(b'/'));
    tail(a, a_tree).cmp(&tail(b, b_tree))
}

/// Record what `new` has that `old` has not at the same path. Unchanged subtrees are
/// skipped by id. A symbolic link counts as a blob: its target text is stored in the
/// repository and comes out of every clone.
fn diff_trees(
    repo: &gix::Repository,
    cache: &mut TreeCache,
    old: Option<ObjectId>,
    new: ObjectId,
    path: &mut Vec<u8>,
    out: &mut Vec<Change>,
) -> Result<(), String> {
    if old == Some(new) {
        return Ok(());
    }
    // Git itself refuses trees this deep; a crafted one must not exhaust the stack.
    if path.iter().filter(|&&b| b == b'/').count() >= MAX_TREE_DEPTH {
        return Err(format!(
            "tree {new} is nested more than {MAX_TREE_DEPTH} levels deep: not descended"
        ));
    }
    let hash = repo.object_hash();
    let new_data = cache.get(repo, new)?;
    let old_data = match old {
        Some(old) => cache.get(repo, old)?,
        None => Rc::from(&[][..]),
    };
    let corrupt = |id: ObjectId, e: &dyn std::fmt::Display| format!("corrupt tree {id}: {e}");
    let mut olds = TreeRefIter::from_bytes(&old_data, hash).peekable();
    let mut first_error = Ok(());
    for entry in TreeRefIter::from_bytes(&new_data, hash) {
        let entry = entry.map_err(|e| corrupt(new, &e))?;
        let (kind, name, id) = (entry.mode.kind(), entry.filename, entry.oid.to_owned());
        let is_tree = kind == EntryKind::Tree;
        // Advance the old side to the first entry not before this one.
        let mut previous: Option<(EntryKind, ObjectId)> = None;
        while let Some(next) = olds.peek() {
            let o = match next {
                Ok(o) => o,
                Err(_) => {
                    let Some(Err(e)) = olds.next() else {
                        unreachable!("peeked an error")
                    };
                    return Err(corrupt(old.unwrap_or(new), &e));
                }
            };
            let okind = o.mode.kind();
            match tree_order(o.filename, okind == EntryKind::Tree, name, is_tree) {
                std::cmp::Ordering::Less => {
                    olds.next();
                }
                std::cmp::Ordering::Equal => {
                    previous = Some((okind, o.oid.to_owned()));
                    olds.next();
                    break;
                }
                std::cmp::Ordering::Greater => break,
            }
        }
        // Unchanged entries (the vast majority) cost no path building.
        let unchanged = previous.is_some_and(|(k, i)| {
            i == id
                && (k == kind
                    || matches!(
                        (k, kind),
                        (EntryKind::Blob, EntryKind::BlobExecutable)
                            | (EntryKind::BlobExecutable, EntryKind::Blob)
                    ))
        });
        if unchanged {
            continue;
        }
        let len = path.len();
        if !path.is_empty() {
            path.push(b'/');
        }
        path.extend_from_slice(name);
        match kind {
            EntryKind::Tree => {
                let old_tree = previous
                    .filter(|(k, _)| *k == EntryKind::Tree)
                    .map(|(_, i)| i);
                let result = diff_trees(repo, cache, old_tree, id, path, out);
                if first_error.is_ok() {
                    first_error = result;
                }
            }
            EntryKind::Blob | EntryKind::BlobExecutable | EntryKind::Link | EntryKind::Commit => {
                out.push(Change {
                    path: path.clone(),
                    id,
                    submodule: kind == EntryKind::Commit,
                    previous: previous
                        .filter(|(k, _)| {
                            matches!(
                                k,
                                EntryKind::Blob | EntryKind::BlobExecutable | EntryKind::Link
                            )
                        })
                        .map(|(_, i)| i),
                    other_previous: Vec::new(),
                })
            }
        }
        path.truncate(len);
    }
    first_error
}

/// The blobs of the trees and blobs that refs name, unless a commit introduced them: a
/// blob is reported at the ref's name, a tree's blobs at `REF:PATH`.
fn add_ref_objects(repo: &gix::Repository, cache_bytes: usize, plan: &mut HistoryPlan) {
    let mut seen: HashSet<ObjectId> = plan.blobs.iter().map(|b| b.id).collect();
    let mut trees = TreeCache::new(cache_bytes / 2);
    for (name, kind, id) in std::mem::take(&mut plan.ref_objects) {
        let blobs: Vec<(Vec<u8>, ObjectId)> = if kind == Kind::Tree {
            let mut out = Vec::new();
            if let Err(e) = diff_trees(repo, &mut trees, None, id, &mut Vec::new(), &mut out) {
                plan.warn(format!("{name}: {e}"));
            }
            plan.submodules += out.iter().filter(|c| c.submodule).count() as u64;
            out.into_iter()
                .filter(|c| !c.submodule)
                .map(|c| (c.path, c.id))
                .collect()
        } else {
            vec![(Vec::new(), id)]
        };
        for (path, blob) in blobs {
            if !seen.insert(blob) {
                continue;
            }
            let shown = match path.is_empty() {
                true => name.clone(),
                false => format!("{name}:{}", String::from_utf8_lossy(&path)),
            };
            plan.paths.push(shown);
            plan.blobs.push(BlobRecord {
                id: blob,
                commit: None,
                path: plan.paths.len() as u32 - 1,
                introductions: 1,
                previous: None,
            });
        }
    }
}

/// Blobs in the object store that no scanned commit introduced.
fn add_unreachable(repo: &gix::Repository, plan: &mut HistoryPlan) {
    let known: HashSet<ObjectId> = plan.blobs.iter().map(|b| b.id).collect();
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let iter = match repo.objects.store_ref().iter() {
        Ok(iter) => iter,
        Err(e) => {
            plan.warn(format!("cannot list the object store: {e}"));
            return;
        }
    };
    let unreachable_path = plan.paths.len() as u32;
    plan.paths.push(String::new());
    for id in iter {
        let id = match id {
            Ok(id) => id,
            Err(e) => {
                plan.warn(format!("cannot list the object store: {e}"));
                continue;
            }
        };
        if known.contains(&id) || !seen.insert(id) {
            continue;
        }
        match repo.objects.try_header(&id) {
            Ok(Some(h)) if h.kind == Kind::Blob => plan.blobs.push(BlobRecord {
                id,
                commit: None,
                path: unreachable_path,
                introductions: 0,
                previous: None,
            }),
            Ok(_) => {}
            Err(e) => plan.warn(format!("cannot read object {id}: {e}")),
        }
    }
}

/// Pack by pack, front to back; loose objects (and objects of alternates) last. The
/// offsets come from walking each pack index once, not from a lookup per blob.
fn sort_by_pack_location(repo: &gix::Repository, blobs: &mut Vec<BlobRecord>) {
    let position: HashMap<ObjectId, usize> =
        blobs.iter().enumerate().map(|(i, b)| (b.id, i)).collect();
    let mut keys: Vec<(u32, u64)> = (0..blobs.len()).map(|i| (u32::MAX, i as u64)).collect();
    for (pack, index) in pack_indices(repo).iter().enumerate() {
        for entry in index.iter() {
            if let Some(&i) = position.get(&entry.oid) {
                keys[i] = keys[i].min((pack as u32, entry.pack_offset));
            }
        }
    }
    let mut order: Vec<usize> = (0..blobs.len()).collect();
    order.sort_unstable_by_key(|&i| keys[i]);
    let mut taken: Vec<Option<BlobRecord>> = std::mem::take(blobs).into_iter().map(Some).collect();
    *blobs = order.into_iter().filter_map(|i| taken[i].take()).collect();
}

/// The repository's own pack indices; one that cannot be read only costs ordering.
fn pack_indices(repo: &gix::Repository) -> Vec<gix::odb::pack::index::File> {
    let dir = repo.objects.store_ref().path().join("pack");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| gix::odb::pack::index::File::at(&p, repo.object_hash()).ok())
        .collect()
}

/// Hand the pages of the repository's pack files that this process has mapped back to
/// the kernel. gix maps whole packs; once read, their pages would otherwise stay
/// resident until exit, so a multi-gigabyte pack would make a multi-gigabyte process.
/// The data stays in the page cache: touching it again costs a minor fault, not I/O.
#[cfg(target_os = "linux")]
pub fn release_pack_pages(repo: &gix::ThreadSafeRepository) {
    let Ok(pack_dir) = repo.objects.path().join("pack").canonicalize() else {
        return;
    };
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    for line in maps.lines() {
        // `start-end perms offset dev inode path`
        let mut fields = line.split_whitespace();
        let (Some(range), Some(_), Some(_), Some(_), Some(_), Some(path)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        // Pack data only: the indices are small and consulted for every object.
        let path = Path::new(path);
        if !path.starts_with(&pack_dir) || path.extension().is_none_or(|x| x != "pack") {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        // SAFETY: the range is a read-only file mapping of this process (gix maps packs
        // read-only and never writes through them); MADV_DONTNEED only drops resident
        // pages, which the kernel faults back in from the file on the next access.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub fn release_pack_pages(_repo: &gix::ThreadSafeRepository) {}

/// The commits reachable from `tips` that the repository did not have (`known` says
/// which it had: with Git's quarantine, every object outside it; `hidden` stops the walk
/// too), and the blobs they introduce that `known_blob` does not know, each once, in
/// pack order, attributed to the first commit that introduced it.
pub fn plan_push(
    ts: &gix::ThreadSafeRepository,
    tips: &[ObjectId],
    hidden: &[ObjectId],
    known: &dyn Fn(&ObjectId) -> bool,
    known_blob: &dyn Fn(&ObjectId) -> bool,
    cache_per_thread: usize,
) -> HistoryPlan {
    let repo = thread_handle(ts, cache_per_thread);
    let mut plan = HistoryPlan {
        complete: true,
        object_format: repo.object_hash().to_string(),
        ..HistoryPlan::default()
    };
    let shallow: HashSet<ObjectId> = match repo.shallow_commits() {
        Ok(Some(commits)) => commits.iter().copied().collect(),
        _ => HashSet::new(),
    };
    walk(&repo, tips, hidden, known, &shallow, &mut plan, &|_| {});
    let order = topological_order(&plan.commits);
    introductions(ts, cache_per_thread, &order, &|_| false, &mut plan);
    plan.blobs.retain(|b| !known_blob(&b.id));
    sort_by_pack_location(&repo, &mut plan.blobs);
    plan
}

/// What reading one blob gave.
pub enum BlobRead<'a> {
    Data(&'a [u8]),
    TooLarge(u64),
    Missing,
    Error(String),
}

/// Read a blob unless its header says it is over `max_size`: a huge blob is never
/// inflated.
pub fn read_blob<'a>(
    repo: &gix::Repository,
    id: &ObjectId,
    max_size: u64,
    buffer: &'a mut Vec<u8>,
) -> BlobRead<'a> {
    match repo.objects.try_header(id) {
        Ok(Some(h)) if h.size > max_size => return BlobRead::TooLarge(h.size),
        Ok(Some(_)) => {}
        Ok(None) => return BlobRead::Missing,
        Err(e) => return BlobRead::Error(e.to_string()),
    }
    match repo.objects.try_find(id, buffer) {
        Ok(Some(data)) => BlobRead::Data(data.data),
        Ok(None) => BlobRead::Missing,
        Err(e) => BlobRead::Error(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn tree_order_puts_trees_after_same_named_files() {
        // Git sorts `a.txt` < `a/` < `ab` because `.` < `/` < `b`.
        assert_eq!(tree_order(b"a.txt", false, b"a", true), Ordering::Less);
        assert_eq!(tree_order(b"a", true, b"ab", false), Ordering::Less);
        assert_eq!(tree_order(b"a", false, b"a", false), Ordering::Equal);
        assert_eq!(tree_order(b"a", false, b"a.txt", false), Ordering::Less);
    }
}
