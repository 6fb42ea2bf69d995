//! Baseline files. Asserts: a file is either a clear error or a baseline of version 1
//! whose every fingerprint is 32 hex digits; a loaded baseline saved and loaded again is
//! the same baseline; applied to findings with its own fingerprints, it suppresses every
//! one of them and reports no entry stale.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tollgate::baseline::{Baseline, BASELINE_VERSION};
use tollgate::finding::{Confidence, Finding};

/// One directory for the whole run: `Baseline::load` and `save` work on files.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory").keep())
}

fuzz_target!(|data: &[u8]| {
    let input = dir().join("input.json");
    std::fs::write(&input, data).expect("writing the input");
    let Ok(baseline) = Baseline::load(&input) else {
        return;
    };
    assert_eq!(baseline.version, BASELINE_VERSION);
    for e in &baseline.findings {
        assert!(e.fingerprint.len() == 32 && e.fingerprint.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    let saved = dir().join("saved.json");
    baseline.save(&saved).expect("saving a loaded baseline");
    let reloaded = Baseline::load(&saved).expect("a saved baseline loads");
    assert_eq!(reloaded, baseline, "save then load changed the baseline");

    let mut findings: Vec<Finding> = baseline
        .findings
        .iter()
        .map(|e| Finding {
            rule_id: e.rule_id.clone(),
            rule_name: String::new(),
            description: None,
            confidence: Confidence::High,
            path: e.path.clone(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            secret: String::new(),
            redacted: true,
            entropy: 0.0,
            fingerprint: e.fingerprint.clone(),
            decoded: Vec::new(),
            snippet: String::new(),
            git: None,
            k8s: None,
        })
        .collect();
    let applied = baseline.apply(&mut findings);
    assert!(
        findings.is_empty(),
        "a baseline left its own findings: {findings:?}"
    );
    assert!(
        applied.stale.is_empty(),
        "entries stale against their own findings"
    );
});
