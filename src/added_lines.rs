//! Which lines a change added, and keeping only the findings on them. A commit (or the
//! index, before a commit) that edits a file answers for what it wrote, not for what the
//! file already held: a secret that was in the file before is not the change's doing, and
//! reporting it on every later edit would bury the new ones. The pre-receive hook,
//! `tollgate git --added-lines-only` and `tollgate staged` all filter here.
//!
//! A line is added when no earlier version of the file has it: each line of an earlier
//! version pairs off with one equal line of the new one, wherever it moved to, so a line
//! that only moved is not added. A merge has one earlier version per parent, and a line
//! that any parent had is not added by the merge.
//!
//! Reading an earlier version costs a blob read and a comparison, so it is done only for
//! blobs that produced findings or pod facts.

use std::collections::{HashMap, HashSet};

use gix::ObjectId;

use crate::finding::Finding;
use crate::scan::BlobReport;
use crate::source::git::{self, BlobRead};
use crate::source::sniff::{sniff, Sniffed};

/// The 1-based numbers of the lines of `new` that `old` does not have: each line of
/// `old` pairs off with one equal line of `new`, wherever it moved to. A trailing `\r` is
/// ignored, so a change of line endings alone adds nothing.
pub fn added_lines(old: &[u8], new: &[u8]) -> HashSet<usize> {
    let mut available: HashMap<&[u8], usize> = HashMap::new();
    for line in old.split(|&b| b == b'\n') {
        *available.entry(trim_cr(line)).or_default() += 1;
    }
    let mut added = HashSet::new();
    for (i, line) in new.split(|&b| b == b'\n').enumerate() {
        match available.get_mut(trim_cr(line)) {
            Some(n) if *n > 0 => *n -= 1,
            _ => {
                added.insert(i + 1);
            }
        }
    }
    added
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// What the earlier versions of a blob held: the lines a new version adds against them,
/// and the Kubernetes posture findings and pods they already produced.
struct Earlier {
    /// The lines of the new text that no earlier version has.
    added: HashSet<usize>,
    /// Posture findings (no secret) the earlier versions produced, by fingerprint and
    /// detail: a grant or a mount is new when its object says something new, whichever
    /// line changed.
    posture: HashSet<(String, Option<String>)>,
    /// Pods the earlier versions had, with their service-account settings.
    pods: HashSet<PodKey>,
}

type PodKey = (String, Option<String>, String, Option<bool>);

fn pod_key(p: &crate::k8s::cluster::PodFact<Finding>) -> PodKey {
    (
        p.report.fingerprint.clone(),
        p.namespace.clone(),
        p.account.clone(),
        p.automount,
    )
}

fn posture_key(f: &Finding) -> (String, Option<String>) {
    (
        f.fingerprint.clone(),
        f.k8s.as_ref().and_then(|k| k.detail.clone()),
    )
}

/// Read the earlier versions that are text. `None` when there is none (a new file) or
/// none could be read as text: an earlier version that is missing, over `max_size`,
/// binary or an LFS pointer counts as absent, so that what cannot be compared is
/// reported rather than hidden. `rescan` runs the scan on an earlier version, only when
/// the new one has posture findings or pods to compare.
fn earlier(
    repo: &gix::Repository,
    previous: &[ObjectId],
    new: &[u8],
    max_size: u64,
    buffer: &mut Vec<u8>,
    report: &BlobReport,
    rescan: &dyn Fn(&[u8]) -> BlobReport,
) -> Option<Earlier> {
    let structural =
        !report.facts.pods.is_empty() || report.findings.iter().any(|f| f.secret.is_empty());
    let mut found: Option<Earlier> = None;
    for id in previous {
        let BlobRead::Data(old) = git::read_blob(repo, id, max_size, buffer) else {
            continue;
        };
        // The old version is read the way the new one was (one classification for
        // both), and a line is added only if no reading of the old version has it.
        let Sniffed::Text(views) = sniff(old) else {
            continue;
        };
        let against = if let [view] = views.as_slice() {
            added_lines(&view.text, new)
        } else {
            let joined = views
                .iter()
                .map(|v| &*v.text)
                .collect::<Vec<_>>()
                .join(&b'\n');
            added_lines(&joined, new)
        };
        let (posture, pods) = if structural {
            let mut posture = HashSet::new();
            let mut pods = HashSet::new();
            for view in &views {
                let before = rescan(&view.text);
                posture.extend(
                    before
                        .findings
                        .iter()
                        .filter(|f| f.secret.is_empty())
                        .map(posture_key),
                );
                pods.extend(before.facts.pods.iter().map(pod_key));
            }
            (posture, pods)
        } else {
            (HashSet::new(), HashSet::new())
        };
        found = Some(match found {
            None => Earlier {
                added: against,
                posture,
                pods,
            },
            // A merge: a line is added only if no parent had it; a posture finding or a
            // pod is new only if no parent had it.
            Some(so_far) => Earlier {
                added: so_far.added.intersection(&against).copied().collect(),
                posture: so_far.posture.union(&posture).cloned().collect(),
                pods: so_far.pods.union(&pods).cloned().collect(),
            },
        });
    }
    found
}

/// Keep what the change brought: findings with a secret on an added line, posture
/// findings and pods the earlier versions did not have. Returns how many findings were
/// left out.
fn keep_new(report: &mut BlobReport, earlier: &Earlier) -> u64 {
    let on_added = |f: &Finding| (f.line..=f.end_line).any(|l| earlier.added.contains(&l));
    let before = report.findings.len();
    report.findings.retain(|f| {
        if f.secret.is_empty() {
            !earlier.posture.contains(&posture_key(f))
        } else {
            on_added(f)
        }
    });
    // A pod the change did not touch is not the change's finding either.
    report
        .facts
        .pods
        .retain(|p| !earlier.pods.contains(&pod_key(p)));
    (before - report.findings.len()) as u64
}

/// Keep only what the change brought against the earlier versions of a blob (read only
/// if the blob produced something to filter). Returns how many findings were left out.
pub fn keep_added_against(
    repo: &gix::Repository,
    previous: &[ObjectId],
    new: &[u8],
    max_size: u64,
    buffer: &mut Vec<u8>,
    report: &mut BlobReport,
    rescan: &dyn Fn(&[u8]) -> BlobReport,
) -> u64 {
    if previous.is_empty() || (report.findings.is_empty() && report.facts.pods.is_empty()) {
        return 0;
    }
    match earlier(repo, previous, new, max_size, buffer, report, rescan) {
        Some(earlier) => keep_new(report, &earlier),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_lines_ignore_lines_that_moved() {
        let old = b"a\nsecret\nc\n";
        let new = b"secret\na\nnew\nc\n";
        let added = added_lines(old, new);
        assert_eq!(added.into_iter().collect::<Vec<_>>(), vec![3]);
    }

    #[test]
    fn a_repeated_line_is_added_once_per_extra_copy() {
        let added = added_lines(b"x\n", b"x\nx\r\n");
        assert_eq!(added.into_iter().collect::<Vec<_>>(), vec![2]);
        let added = added_lines(b"x\r\ny\n", b"x\ny\n");
        assert!(added.is_empty(), "{added:?}");
    }
}
