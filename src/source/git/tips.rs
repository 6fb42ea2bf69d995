//! Where a history scan starts and stops: HEAD and every ref, or the revisions named on
//! the command line, each peeled through annotated tags to a commit. A ref or revision
//! whose object is missing or cannot be read is a warning that makes the plan incomplete,
//! never a ref quietly skipped: a tip not read is history not scanned. Trees and blobs
//! that refs name are set aside for the plan to scan as they are.

use anyhow::Context as _;
use gix::objs::{CommitRef, Find as _, FindHeader as _, Kind};
use gix::ObjectId;

use super::{HistoryOptions, HistoryPlan};
use crate::source::messages::{self, TagObject};

/// The commits to start from and the commits to stop at. A revision that names nothing is
/// an error; one that names an object that cannot be read is a warning that makes the
/// plan incomplete (a tip not read is history not scanned; a boundary not read is kept by
/// id, so the walk still stops there).
pub(super) fn select(
    repo: &gix::Repository,
    options: &HistoryOptions,
    plan: &mut HistoryPlan,
) -> anyhow::Result<(Vec<ObjectId>, Vec<ObjectId>)> {
    let mut tips = Vec::new();
    let mut hidden = Vec::new();
    if options.revisions.is_empty() {
        return Ok((ref_tips(repo, plan)?, hidden));
    }
    for rev in &options.revisions {
        let spec = repo
            .rev_parse(rev.as_str())
            .map_err(|e| anyhow::anyhow!("`{rev}`: not a revision ({e})"))?
            .detach();
        use gix::revision::plumbing::Spec;
        match spec {
            Spec::Include(id) => tips.extend(peel_named(repo, rev, id, Side::Tip, plan)),
            Spec::Exclude(id) => {
                hidden.push(peel_named(repo, rev, id, Side::Boundary, plan).unwrap_or(id))
            }
            Spec::Range { from, to } => {
                hidden.push(peel_named(repo, rev, from, Side::Boundary, plan).unwrap_or(from));
                tips.extend(peel_named(repo, rev, to, Side::Tip, plan));
            }
            Spec::Merge { theirs, ours } => {
                let (Some(theirs), Some(ours)) = (
                    peel_named(repo, rev, theirs, Side::Tip, plan),
                    peel_named(repo, rev, ours, Side::Tip, plan),
                ) else {
                    continue;
                };
                tips.extend([theirs, ours]);
                // Without a common ancestor, both histories are scanned in full.
                match repo.merge_base(theirs, ours) {
                    Ok(base) => hidden.extend(base.map(|b| b.detach())),
                    // Both sides are scanned in full, and what could not be read is said.
                    Err(e) => plan.warn(format!("`{rev}`: cannot find the merge base: {e}")),
                }
            }
            Spec::IncludeOnlyParents(id) => {
                if let Some(commit) = peel_named(repo, rev, id, Side::Tip, plan) {
                    match read_commit(repo, commit) {
                        Ok((_, parents)) => tips.extend(parents),
                        Err(e) => plan.warn(format!("`{rev}`: {e:#}")),
                    }
                }
            }
            Spec::ExcludeParents(id) => {
                if let Some(commit) = peel_named(repo, rev, id, Side::Tip, plan) {
                    tips.push(commit);
                    match read_commit(repo, commit) {
                        Ok((_, parents)) => hidden.extend(parents),
                        Err(e) => plan.warn(format!("`{rev}`: {e:#}")),
                    }
                }
            }
        }
    }
    Ok((tips, hidden))
}

/// Which end of a revision range an object is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Tip,
    Boundary,
}

/// The commit a named revision stands for (a tag is peeled); `None` when it cannot be
/// read (a warning) or names no commit. A tip that names a tree or a blob is scanned as
/// it is; a boundary that does has no history to exclude.
fn peel_named(
    repo: &gix::Repository,
    rev: &str,
    id: ObjectId,
    side: Side,
    plan: &mut HistoryPlan,
) -> Option<ObjectId> {
    match peel_tag_chain(repo, id) {
        Ok(Peeled::Commit(commit)) => Some(commit),
        Ok(Peeled::Other(kind, target)) => {
            match side {
                Side::Tip => plan.ref_objects.push((rev.to_string(), kind, target)),
                Side::Boundary => plan.warnings.push(format!(
                    "`{rev}` names a {kind} ({target}), which excludes no history"
                )),
            }
            None
        }
        Err(e) => {
            plan.warn(format!("`{rev}`: {e}"));
            None
        }
    }
}

/// What a chain of annotated tags ends at.
enum Peeled {
    Commit(ObjectId),
    /// A tree or a blob: content without history.
    Other(Kind, ObjectId),
}

/// Tags nested deeper than this are taken for a loop (a tag cannot name itself, but a
/// crafted store could claim it).
const MAX_TAG_DEPTH: usize = 64;

/// Follow annotated tags from `id` to the object they end at. Only the header of the
/// last object is read: a commit is read whole by the walk, which warns if it cannot.
/// Every object that is missing or cannot be read is an error naming it.
fn peel_tag_chain(repo: &gix::Repository, mut id: ObjectId) -> Result<Peeled, String> {
    let mut buf = Vec::new();
    for _ in 0..MAX_TAG_DEPTH {
        let kind = match repo.objects.try_header(&id) {
            Ok(Some(h)) => h.kind,
            Ok(None) => return Err(format!("missing object {id}")),
            Err(e) => return Err(format!("cannot read object {id}: {e}")),
        };
        match kind {
            Kind::Commit => return Ok(Peeled::Commit(id)),
            Kind::Tree | Kind::Blob => return Ok(Peeled::Other(kind, id)),
            Kind::Tag => {
                let data = match repo.objects.try_find(&id, &mut buf) {
                    Ok(Some(d)) => d,
                    Ok(None) => return Err(format!("missing tag {id}")),
                    Err(e) => return Err(format!("cannot read tag {id}: {e}")),
                };
                id = gix::objs::TagRef::from_bytes(data.data, repo.object_hash())
                    .map_err(|e| format!("corrupt tag {id}: {e}"))?
                    .target();
            }
        }
    }
    Err(format!(
        "tag {id} is nested more than {MAX_TAG_DEPTH} levels deep"
    ))
}

/// HEAD and the commit of every ref. A ref whose object is missing or cannot be read is
/// a warning that makes the plan incomplete: its history is not scanned. A symbolic ref
/// whose target does not exist names nothing (git ignores it too): only a warning.
pub fn ref_tips(repo: &gix::Repository, plan: &mut HistoryPlan) -> anyhow::Result<Vec<ObjectId>> {
    let mut tips = Vec::new();
    match repo.head() {
        // No commit yet: nothing to scan.
        Ok(head) if head.is_unborn() => {}
        // The branch HEAD names is one of the refs below.
        Ok(head) if !head.is_detached() => {}
        Ok(head) => match head.id() {
            Some(id) => add_ref_tip(repo, "HEAD", id.detach(), plan, &mut tips),
            None => plan.warn("HEAD: cannot resolve it to an object".into()),
        },
        Err(e) => plan.warn(format!("cannot read HEAD: {e}")),
    }
    // Refs that cannot be listed at all (a `packed-refs` that is not a file) leave HEAD.
    let platform = match repo.references() {
        Ok(p) => p,
        Err(e) => {
            plan.warn(format!("cannot read the references: {e}"));
            return Ok(tips);
        }
    };
    let all = match platform.all() {
        Ok(all) => all,
        Err(e) => {
            plan.warn(format!("cannot read the references: {e}"));
            return Ok(tips);
        }
    };
    for reference in all {
        let mut reference = match reference {
            Ok(r) => r,
            Err(e) => {
                plan.warn(format!("cannot read a reference: {e}"));
                continue;
            }
        };
        plan.refs += 1;
        let name = reference.name().as_bstr().to_string();
        if let Some(direct) = reference.target().try_id().map(|id| id.to_owned()) {
            annotated_tags_of(repo, &name, direct, plan);
        }
        let symbolic_target = match reference.target() {
            gix::refs::TargetRef::Symbolic(target) => Some(target.to_owned()),
            gix::refs::TargetRef::Object(_) => None,
        };
        match reference.follow_to_object() {
            Ok(id) => add_ref_tip(repo, &name, id.detach(), plan, &mut tips),
            Err(e) => match symbolic_target {
                // A dangling symbolic ref (a remote's HEAD after its branch was pruned)
                // names nothing to scan.
                Some(target) if matches!(repo.try_find_reference(target.as_ref()), Ok(None)) => {
                    plan.warnings.push(format!(
                        "{name}: ignoring a symbolic ref to {target}, which does not exist"
                    ))
                }
                _ => plan.warn(format!("{name}: cannot resolve it: {e}")),
            },
        }
    }
    Ok(tips)
}

/// The annotated tags a ref leads through, for their messages; a ref to a commit costs
/// one header read. Unreadable objects are left to the peel that follows, which warns.
fn annotated_tags_of(repo: &gix::Repository, name: &str, direct: ObjectId, plan: &mut HistoryPlan) {
    if !matches!(repo.objects.try_header(&direct), Ok(Some(h)) if h.kind == Kind::Tag) {
        return;
    }
    if let Ok(peeled) = messages::peel(repo, direct) {
        plan.annotated_tags
            .extend(peeled.tags.into_iter().map(|id| TagObject {
                ref_name: name.to_string(),
                id,
            }));
    }
}

/// Add the commit a ref points to (through annotated tags) to `tips`.
fn add_ref_tip(
    repo: &gix::Repository,
    name: &str,
    id: ObjectId,
    plan: &mut HistoryPlan,
    tips: &mut Vec<ObjectId>,
) {
    match peel_tag_chain(repo, id) {
        Ok(Peeled::Commit(commit)) => tips.push(commit),
        // A tag of a blob (git.git tags its maintainer's key so) or of a tree: content
        // outside any commit, scanned at the ref's name.
        Ok(Peeled::Other(kind, target)) => plan.ref_objects.push((name.to_string(), kind, target)),
        Err(e) => plan.warn(format!("{name}: {e}")),
    }
}

/// Tree and parents of a commit.
fn read_commit(repo: &gix::Repository, id: ObjectId) -> anyhow::Result<(ObjectId, Vec<ObjectId>)> {
    let mut buf = Vec::new();
    let data = repo
        .objects
        .try_find(&id, &mut buf)
        .with_context(|| format!("cannot read commit {id}"))?
        .with_context(|| format!("missing commit {id}"))?;
    anyhow::ensure!(
        data.kind == Kind::Commit,
        "{id} is a {}, not a commit",
        data.kind
    );
    let commit = CommitRef::from_bytes(data.data, repo.object_hash())
        .with_context(|| format!("corrupt commit {id}"))?;
    Ok((commit.tree(), commit.parents().collect()))
}

/// Peel a pushed id to the commit it names (an annotated tag names one); `None` for a
/// tree or a blob. An object on the way that cannot be read is an error.
pub fn peel_to_commit(repo: &gix::Repository, id: ObjectId) -> Result<Option<ObjectId>, String> {
    match peel_tag_chain(repo, id)? {
        Peeled::Commit(commit) => Ok(Some(commit)),
        Peeled::Other(..) => Ok(None),
    }
}
