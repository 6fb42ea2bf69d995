//! Content a ref points at without a commit: a tag (lightweight or annotated) of a tree
//! or of a blob. It has no history, but it is on the server and in every clone that
//! fetches tags, so it is scanned: a blob as it is, a tree as every blob under it, each
//! once. Findings are reported at `<ref>:<path>` (`refs/tags/t:config/app.env`, what
//! `git show` accepts), or at the ref name for a blob; the blob id is in the `git`
//! context, the commit is empty.

use std::collections::HashSet;

use gix::objs::tree::EntryKind;
use gix::objs::{Find as _, Kind, TreeRefIter};
use gix::ObjectId;

use crate::engine::{Engine, ScratchPool};
use crate::finding::GitContext;
use crate::scan::{scan_blob, ScanConfig};
use crate::source::git::{self, BlobRead};
use crate::source::messages::ExtraScan;
use crate::source::Provenance;

/// Deeper trees are reported, not descended (as for commits' trees).
const MAX_TREE_DEPTH: usize = 4096;

/// A ref that ends at a tree or a blob.
#[derive(Debug, Clone)]
pub struct ContentRef {
    pub ref_name: String,
    pub target: ObjectId,
    pub kind: Kind,
}

/// A blob found under a content ref, with the path it is reported at.
struct RefBlob {
    id: ObjectId,
    path: String,
}

/// Scan what the refs point at. `skip`: blobs scanned elsewhere (introduced by a
/// scanned commit) or that the server already had; each other blob is scanned once,
/// under the first ref and path it was found at.
pub fn scan_ref_content(
    repo: &gix::Repository,
    refs: &[ContentRef],
    skip: &dyn Fn(&ObjectId) -> bool,
    engine: &Engine,
    config: &ScanConfig,
) -> ExtraScan {
    let mut scan = ExtraScan::default();
    let blobs = ref_blobs(repo, refs, skip, &mut scan.warnings);
    let scratches = ScratchPool::default();
    let mut buffer = Vec::new();
    for blob in blobs {
        let data = match git::read_blob(repo, &blob.id, config.max_file_size, &mut buffer) {
            BlobRead::Data(d) => d,
            BlobRead::TooLarge(size) => {
                scan.too_large.push(format!(
                    "{} ({size} bytes) not scanned: over the size limit",
                    blob.path
                ));
                continue;
            }
            BlobRead::Missing => {
                scan.warnings
                    .push(format!("missing blob {} ({})", blob.id, blob.path));
                continue;
            }
            BlobRead::Error(e) => {
                scan.warnings
                    .push(format!("cannot read blob {} ({}): {e}", blob.id, blob.path));
                continue;
            }
        };
        let crate::source::sniff::Sniffed::Text(views) = crate::source::sniff::sniff(data) else {
            continue;
        };
        let provenance = Provenance {
            path: blob.path.clone(),
            rel_path: blob.path,
            git: Some(GitContext {
                commit: String::new(),
                blob: blob.id.to_string(),
                author_name: String::new(),
                author_email: String::new(),
                date: String::new(),
                summary: String::new(),
                other_locations: 0,
            }),
        };
        for view in &views {
            let report = scratches.with(|s| scan_blob(engine, &view.text, &provenance, config, s));
            scan.add_text(report, view.text.len());
        }
    }
    scan
}

/// The ids of every blob under `refs`: what `scan_ref_content` scans there when nothing
/// is skipped (a push's other passes leave these to it).
pub fn blob_ids(repo: &gix::Repository, refs: &[ContentRef]) -> HashSet<ObjectId> {
    ref_blobs(repo, refs, &|_| false, &mut Vec::new())
        .into_iter()
        .map(|b| b.id)
        .collect()
}

/// The blobs under `refs`, each once, at the first ref and path it was found at.
fn ref_blobs(
    repo: &gix::Repository,
    refs: &[ContentRef],
    skip: &dyn Fn(&ObjectId) -> bool,
    warnings: &mut Vec<String>,
) -> Vec<RefBlob> {
    let mut seen_blobs: HashSet<ObjectId> = HashSet::new();
    let mut seen_trees: HashSet<ObjectId> = HashSet::new();
    let mut blobs = Vec::new();
    for r in refs {
        match r.kind {
            Kind::Blob if seen_blobs.insert(r.target) && !skip(&r.target) => {
                blobs.push(RefBlob {
                    id: r.target,
                    path: r.ref_name.clone(),
                });
            }
            Kind::Tree => {
                let mut prefix = format!("{}:", r.ref_name).into_bytes();
                let mut walk = TreeWalk {
                    repo,
                    skip,
                    seen_blobs: &mut seen_blobs,
                    seen_trees: &mut seen_trees,
                    out: &mut blobs,
                    warnings,
                };
                walk.descend(r.target, &mut prefix, 0);
            }
            _ => {}
        }
    }
    blobs
}

struct TreeWalk<'a> {
    repo: &'a gix::Repository,
    skip: &'a dyn Fn(&ObjectId) -> bool,
    seen_blobs: &'a mut HashSet<ObjectId>,
    seen_trees: &'a mut HashSet<ObjectId>,
    out: &'a mut Vec<RefBlob>,
    warnings: &'a mut Vec<String>,
}

impl TreeWalk<'_> {
    /// Every tree is read once: a subtree shared by many paths holds the same blobs.
    fn descend(&mut self, tree: ObjectId, path: &mut Vec<u8>, depth: usize) {
        if !self.seen_trees.insert(tree) {
            return;
        }
        if depth >= MAX_TREE_DEPTH {
            self.warnings.push(format!(
                "tree {tree} is nested more than {MAX_TREE_DEPTH} levels deep: not descended"
            ));
            return;
        }
        let mut buffer = Vec::new();
        let data = match self.repo.objects.try_find(&tree, &mut buffer) {
            Ok(Some(d)) if d.kind == Kind::Tree => d.data.to_vec(),
            Ok(Some(d)) => {
                self.warnings
                    .push(format!("{tree} is a {}, not a tree", d.kind));
                return;
            }
            Ok(None) => {
                self.warnings.push(format!("missing tree {tree}"));
                return;
            }
            Err(e) => {
                self.warnings.push(format!("cannot read tree {tree}: {e}"));
                return;
            }
        };
        for entry in TreeRefIter::from_bytes(&data, self.repo.object_hash()) {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.warnings.push(format!("corrupt tree {tree}: {e}"));
                    return;
                }
            };
            let len = path.len();
            if depth > 0 {
                path.push(b'/');
            }
            path.extend_from_slice(entry.filename);
            let id = entry.oid.to_owned();
            match entry.mode.kind() {
                EntryKind::Tree => self.descend(id, path, depth + 1),
                EntryKind::Blob | EntryKind::BlobExecutable | EntryKind::Link => {
                    if self.seen_blobs.insert(id) && !(self.skip)(&id) {
                        self.out.push(RefBlob {
                            id,
                            path: String::from_utf8_lossy(path).into_owned(),
                        });
                    }
                }
                // A submodule's content lives in another repository.
                EntryKind::Commit => {}
            }
            path.truncate(len);
        }
    }
}
