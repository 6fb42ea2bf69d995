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
use crate::source::utf16_to_utf8;

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

/// The lines of `new` (the text as scanned) that none of the `previous` blobs has.
/// `None` means every line counts: there is no earlier version (a new file), or none
/// could be read. An earlier version that cannot be read (missing, over `max_size`)
/// counts as empty, so that what cannot be compared is reported rather than hidden.
pub fn added_against(
    repo: &gix::Repository,
    previous: &[ObjectId],
    new: &[u8],
    max_size: u64,
    buffer: &mut Vec<u8>,
) -> Option<HashSet<usize>> {
    let mut added: Option<HashSet<usize>> = None;
    for id in previous {
        let BlobRead::Data(old) = git::read_blob(repo, id, max_size, buffer) else {
            continue;
        };
        // The new text was transcoded from UTF-16 if it was UTF-16; so is the old.
        let against = added_lines(&utf16_to_utf8(old.to_vec()), new);
        added = Some(match added {
            None => against,
            Some(so_far) => so_far.intersection(&against).copied().collect(),
        });
    }
    added
}

/// Keep the findings, and the pods whose risk is reported later, that touch an added
/// line; returns how many findings were left out.
pub fn keep_added(report: &mut BlobReport, added: &HashSet<usize>) -> u64 {
    let on_added = |f: &Finding| (f.line..=f.end_line).any(|l| added.contains(&l));
    let before = report.findings.len();
    report.findings.retain(on_added);
    // A pod the change did not touch is not the change's finding either.
    report.facts.pods.retain(|p| on_added(&p.report));
    (before - report.findings.len()) as u64
}

/// `keep_added` against the earlier versions of a blob, read only if the blob produced
/// something to filter. Returns how many findings were left out.
pub fn keep_added_against(
    repo: &gix::Repository,
    previous: &[ObjectId],
    new: &[u8],
    max_size: u64,
    buffer: &mut Vec<u8>,
    report: &mut BlobReport,
) -> u64 {
    if previous.is_empty() || (report.findings.is_empty() && report.facts.pods.is_empty()) {
        return 0;
    }
    match added_against(repo, previous, new, max_size, buffer) {
        Some(added) => keep_added(report, &added),
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
