//! The index as a source: what `git commit` would record next. Each entry whose blob
//! differs from HEAD's at the same path is staged content; `git add` has already written
//! the blob to the object database, so it is read from there, never from the work tree
//! (which may hold unstaged edits).
//!
//! While a merge is being concluded (`MERGE_HEAD` exists), the commit will have the
//! merged heads as parents too: a file's earlier versions are then HEAD's and each merged
//! head's, so that what the merge brings from the other side is not new.

use anyhow::Context as _;
use gix::bstr::{BString, ByteSlice};
use gix::index::entry::{Flags, Mode, Stage};
use gix::ObjectId;
use std::collections::HashMap;

/// A staged blob to scan.
#[derive(Debug, Clone)]
pub struct StagedBlob {
    /// Relative to the top of the work tree, `/`-separated.
    pub path: String,
    pub id: ObjectId,
    /// The blob at this path in HEAD (and in each merged head), where there is one.
    pub previous: Vec<ObjectId>,
}

/// What the index holds that differs from HEAD.
#[derive(Debug, Default)]
pub struct StagedChanges {
    pub blobs: Vec<StagedBlob>,
    /// Staged submodule links (their content lives in another repository).
    pub submodules: Vec<String>,
    /// Paths with a conflict not yet resolved (entries at stages 1 to 3).
    pub conflicted: Vec<String>,
    /// Paths added with `git add -N`: no content staged yet.
    pub intent_to_add: Vec<String>,
    /// HEAD has no commit yet: everything staged is new.
    pub unborn: bool,
    /// Problems that did not stop the scan (an unreadable `MERGE_HEAD`).
    pub warnings: Vec<String>,
}

/// A tree's blobs by path.
type TreeFiles = HashMap<BString, (Mode, ObjectId)>;

/// Read the index and compare it with HEAD (and with the heads a merge brings in).
pub fn staged_changes(repo: &gix::Repository) -> anyhow::Result<StagedChanges> {
    anyhow::ensure!(
        repo.workdir().is_some(),
        "{}: a bare repository has no index to scan",
        repo.git_dir().display()
    );
    let head = repo
        .head()
        .map_err(|e| anyhow::anyhow!("cannot read HEAD: {e}"))?;
    // Before the first `git add` there is no index, and nothing is staged. With commits,
    // a missing index would make the next commit delete every file: something is wrong
    // (a `--no-checkout` clone, a removed file), and nothing read is not a clean bill.
    if !head.is_unborn() && !repo.index_path().exists() {
        anyhow::bail!(
            "no index at {}: nothing can be compared with HEAD (`git reset` rebuilds it from HEAD)",
            repo.index_path().display()
        );
    }
    let index = repo.index_or_empty().map_err(|e| {
        anyhow::anyhow!("cannot read the index {}: {e}", repo.index_path().display())
    })?;
    let mut changes = StagedChanges::default();
    let mut trees: Vec<TreeFiles> = Vec::new();
    if head.is_unborn() {
        changes.unborn = true;
    } else {
        let tree = repo
            .head_tree_id()
            .map_err(|e| anyhow::anyhow!("cannot read HEAD's tree: {e}"))?
            .detach();
        trees.push(tree_files(repo, tree).context("cannot read HEAD's tree")?);
        for merged in merge_heads(repo, &mut changes.warnings) {
            match commit_tree(repo, merged).and_then(|t| tree_files(repo, t)) {
                Ok(files) => trees.push(files),
                Err(e) => changes.warnings.push(format!(
                    "MERGE_HEAD {merged}: {e:#}; compared with HEAD only"
                )),
            }
        }
    }

    for entry in index.entries() {
        let path = entry.path(&index);
        let shown = || path.to_str_lossy().into_owned();
        if entry.stage() != Stage::Unconflicted {
            // Stages 1-3 of one path are neighbours in the index.
            if changes.conflicted.last().is_none_or(|p| *p != shown()) {
                changes.conflicted.push(shown());
            }
            continue;
        }
        if entry.flags.contains(Flags::INTENT_TO_ADD) {
            changes.intent_to_add.push(shown());
            continue;
        }
        let at_head = trees.first().and_then(|t| t.get(path));
        if at_head.is_some_and(|&(mode, id)| id == entry.id && same_kind(mode, entry.mode)) {
            continue;
        }
        match entry.mode {
            // A link's target text is stored like a file's content and comes out of
            // every clone: scanned as a small blob.
            Mode::FILE | Mode::FILE_EXECUTABLE | Mode::SYMLINK => {}
            Mode::COMMIT => {
                changes.submodules.push(shown());
                continue;
            }
            // A sparse index's directory entries stand for trees outside the checkout:
            // nothing there can be staged without expanding them.
            _ => continue,
        }
        let previous = trees
            .iter()
            .filter_map(|t| t.get(path))
            .filter(|(mode, _)| matches!(*mode, Mode::FILE | Mode::FILE_EXECUTABLE | Mode::SYMLINK))
            .map(|&(_, id)| id)
            .collect();
        changes.blobs.push(StagedBlob {
            path: shown(),
            id: entry.id,
            previous,
        });
    }
    Ok(changes)
}

/// A file that only became executable (or stopped being) has the same content.
fn same_kind(a: Mode, b: Mode) -> bool {
    let file = |m: Mode| matches!(m, Mode::FILE | Mode::FILE_EXECUTABLE);
    a == b || (file(a) && file(b))
}

fn tree_files(repo: &gix::Repository, tree: ObjectId) -> anyhow::Result<TreeFiles> {
    let state = repo
        .index_from_tree(&tree)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(state
        .entries()
        .iter()
        .map(|e| (e.path(&state).to_owned(), (e.mode, e.id)))
        .collect())
}

fn commit_tree(repo: &gix::Repository, commit: ObjectId) -> anyhow::Result<ObjectId> {
    let commit = repo
        .find_commit(commit)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(commit
        .tree_id()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .detach())
}

/// The heads a merge in progress brings in, from `MERGE_HEAD` (one id per line).
fn merge_heads(repo: &gix::Repository, warnings: &mut Vec<String>) -> Vec<ObjectId> {
    let file = repo.git_dir().join("MERGE_HEAD");
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter_map(|l| match ObjectId::from_hex(l.as_bytes()) {
            Ok(id) => Some(id),
            Err(_) => {
                warnings.push(format!(
                    "{}: `{l}` is not an object id; ignored",
                    file.display()
                ));
                None
            }
        })
        .collect()
}
