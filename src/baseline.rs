//! Baselines: the findings a team has triaged, by fingerprint (rule, hash of the secret,
//! path: never a line number, a commit id or the secret), so that a later scan reports
//! only what is new. Because the fingerprint has no position in it, a baseline survives
//! edits above the secret, rebases and squash merges; moving the file to another path
//! makes it a new finding.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::finding::Finding;

/// Bumped only on incompatible changes to the file.
pub const BASELINE_VERSION: u32 = 1;

/// The default file `baseline create` writes.
pub const DEFAULT_FILE: &str = ".tollgate-baseline.json";

/// One triaged finding. `rule_id` and `path` are there for the people who review the
/// file; only the fingerprint is matched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub path: String,
    pub rule_id: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub tool: String,
    pub findings: Vec<Entry>,
}

/// What applying a baseline did.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// Findings dropped because the baseline has them.
    pub suppressed: u64,
    /// Baseline entries no finding matched: fixed, or moved.
    pub stale: Vec<Entry>,
}

impl Baseline {
    /// The baseline of these findings: one entry per fingerprint, sorted, so that the
    /// file diffs well in review.
    pub fn of(findings: &[Finding]) -> Baseline {
        let mut entries: BTreeMap<&str, Entry> = BTreeMap::new();
        for f in findings {
            entries.entry(&f.fingerprint).or_insert_with(|| Entry {
                path: f.path.strip_prefix("./").unwrap_or(&f.path).to_string(),
                rule_id: f.rule_id.clone(),
                fingerprint: f.fingerprint.clone(),
            });
        }
        let mut findings: Vec<Entry> = entries.into_values().collect();
        findings.sort();
        Baseline {
            version: BASELINE_VERSION,
            tool: format!("tollgate {}", env!("CARGO_PKG_VERSION")),
            findings,
        }
    }

    pub fn load(file: &Path) -> anyhow::Result<Baseline> {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the baseline {}", file.display()))?;
        let baseline: Baseline = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a tollgate baseline (`tollgate baseline create` writes one)",
                file.display()
            )
        })?;
        anyhow::ensure!(
            baseline.version == BASELINE_VERSION,
            "{}: baseline version {} is not supported (this tollgate reads version {})",
            file.display(),
            baseline.version,
            BASELINE_VERSION
        );
        if let Some(bad) = baseline.findings.iter().find(|e| {
            e.fingerprint.len() != 32 || !e.fingerprint.bytes().all(|b| b.is_ascii_hexdigit())
        }) {
            anyhow::bail!(
                "{}: `{}` is not a tollgate fingerprint (32 hex digits)",
                file.display(),
                bad.fingerprint
            );
        }
        Ok(baseline)
    }

    /// Write the file whole, through a temporary file, so that an interrupted write
    /// never leaves half a baseline.
    pub fn save(&self, file: &Path) -> anyhow::Result<()> {
        let dir = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut builder = tempfile::Builder::new();
        // A temporary file is private (0600); a baseline is a file to commit and share.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let mut tmp = builder
            .tempfile_in(&dir)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        serde_json::to_writer_pretty(&mut tmp, self)?;
        std::io::Write::write_all(&mut tmp, b"\n")?;
        tmp.persist(file)
            .with_context(|| format!("cannot write {}", file.display()))?;
        Ok(())
    }

    /// Drop the findings the baseline has; report the entries nothing matched.
    pub fn apply(&self, findings: &mut Vec<Finding>) -> Applied {
        let known: HashSet<&str> = self
            .findings
            .iter()
            .map(|e| e.fingerprint.as_str())
            .collect();
        let mut seen: HashSet<String> = HashSet::new();
        let before = findings.len();
        findings.retain(|f| {
            if known.contains(f.fingerprint.as_str()) {
                seen.insert(f.fingerprint.clone());
                false
            } else {
                true
            }
        });
        Applied {
            suppressed: (before - findings.len()) as u64,
            stale: self
                .findings
                .iter()
                .filter(|e| !seen.contains(&e.fingerprint))
                .cloned()
                .collect(),
        }
    }

    /// This baseline without the given stale entries. Only a scan that read everything
    /// can tell that an entry is stale: what could not be read may still hold its
    /// secret, so after an incomplete scan nothing is dropped, and the error says why.
    pub fn pruned(&self, stale: &[Entry], coverage: Coverage) -> anyhow::Result<Baseline> {
        anyhow::ensure!(
            coverage == Coverage::Complete,
            "the scan was not complete (see the warnings above): baseline left unchanged, \
             since what could not be read may still hold the secrets of the {} entries no \
             finding matched",
            stale.len()
        );
        let stale: HashSet<&str> = stale.iter().map(|e| e.fingerprint.as_str()).collect();
        Ok(Baseline {
            findings: self
                .findings
                .iter()
                .filter(|e| !stale.contains(e.fingerprint.as_str()))
                .cloned()
                .collect(),
            ..self.clone()
        })
    }
}

/// Whether the scan behind a baseline command read everything it was asked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    Complete,
    /// A ref, commit, tree, blob or file could not be read.
    Incomplete,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{fingerprint, Confidence};

    fn finding(path: &str, secret: &[u8], line: usize) -> Finding {
        Finding {
            rule_id: "r.x".into(),
            rule_name: "x".into(),
            description: None,
            confidence: Confidence::High,
            path: path.into(),
            line,
            column: 1,
            end_line: line,
            end_column: 9,
            secret: "abcd…".into(),
            redacted: true,
            entropy: 4.0,
            fingerprint: fingerprint("r.x", secret, path),
            decoded: Vec::new(),
            snippet: String::new(),
            git: None,
            k8s: None,
        }
    }

    #[test]
    fn a_baseline_suppresses_its_findings_wherever_they_moved_in_the_file() {
        let base = Baseline::of(&[finding("a.env", b"s1", 3), finding("a.env", b"s1", 9)]);
        assert_eq!(base.findings.len(), 1, "one entry per fingerprint");
        let mut now = vec![finding("a.env", b"s1", 40), finding("a.env", b"s2", 41)];
        let applied = base.apply(&mut now);
        assert_eq!(applied.suppressed, 1);
        assert!(applied.stale.is_empty());
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].line, 41);
    }

    #[test]
    fn entries_nothing_matches_are_stale_and_pruned() {
        let base = Baseline::of(&[finding("a.env", b"s1", 3), finding("b.env", b"s1", 3)]);
        let mut now = vec![finding("a.env", b"s1", 3)];
        let applied = base.apply(&mut now);
        assert_eq!(applied.stale.len(), 1);
        assert_eq!(applied.stale[0].path, "b.env");
        let pruned = base.pruned(&applied.stale, Coverage::Complete).unwrap();
        assert_eq!(pruned.findings.len(), 1);
        assert_eq!(pruned.findings[0].path, "a.env");
    }

    #[test]
    fn an_incomplete_scan_prunes_nothing_and_says_why() {
        let base = Baseline::of(&[finding("a.env", b"s1", 3), finding("b.env", b"s1", 3)]);
        let mut now = Vec::new();
        let applied = base.apply(&mut now);
        assert_eq!(applied.stale.len(), 2);
        let refused = base
            .pruned(&applied.stale, Coverage::Incomplete)
            .unwrap_err()
            .to_string();
        assert!(refused.contains("not complete"), "{refused}");
        assert!(refused.contains("left unchanged"), "{refused}");
    }

    #[test]
    fn files_round_trip_and_bad_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("b.json");
        let base = Baseline::of(&[finding("a.env", b"s1", 3)]);
        base.save(&file).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("s1"), "no secret in the file");
        assert!(!text.contains("\"line\""), "no line numbers");
        assert_eq!(Baseline::load(&file).unwrap(), base);
        std::fs::write(&file, "{\"version\": 9, \"tool\": \"x\", \"findings\": []}").unwrap();
        assert!(Baseline::load(&file)
            .unwrap_err()
            .to_string()
            .contains("version 9"));
        std::fs::write(&file, "[1, 2]").unwrap();
        assert!(
            format!("{:#}", Baseline::load(&file).unwrap_err()).contains("not a tollgate baseline")
        );
        let missing = dir.path().join("none.json");
        assert!(Baseline::load(&missing).is_err());
    }
}
