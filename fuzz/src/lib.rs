//! Shared pieces of the fuzz targets: one engine with every built-in rule and every
//! decoder on, findings built from fuzz input, and the checks several targets assert.
//! The targets themselves live in `fuzz_targets/`, one property set each.

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use tollgate::engine::decode::DecodeLimits;
use tollgate::engine::{Engine, EngineOptions};
use tollgate::finding::{Confidence, Finding, GitContext, K8sContext, TechniqueInfo};
use tollgate::scan::ScanConfig;

/// Decoded text is decoded again this often: deeper than the default (2), so that the
/// fuzzer reaches the nesting limit with short inputs.
pub const DECODE_DEPTH: usize = 3;

pub fn engine_options() -> EngineOptions {
    EngineOptions {
        decode_depth: DECODE_DEPTH,
        decode_limits: DecodeLimits::default(),
        min_confidence: Confidence::Low,
        explain: false,
    }
}

/// The built-in rules, compiled once per process: compiling them per input would cost
/// more than scanning it.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let config = scan_config(true);
        tollgate::scan::build_engine(&config).expect("the built-in rules compile")
    })
}

pub fn scan_config(redact: bool) -> ScanConfig {
    ScanConfig {
        engine: engine_options(),
        redact,
        ..ScanConfig::default()
    }
}

/// Properties a run leaves out, from `TOLLGATE_FUZZ_SKIP` (comma-separated names, e.g.
/// `human-controls`): a known bug, while its fix is not merged yet, would otherwise stop
/// every run at its first input and hide everything else. CI never sets it.
pub fn skipped(property: &str) -> bool {
    static SKIP: OnceLock<Vec<String>> = OnceLock::new();
    SKIP.get_or_init(|| {
        std::env::var("TOLLGATE_FUZZ_SKIP")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
    .iter()
    .any(|s| s == property)
}

/// The first terminal control character in text meant for a terminal: C0 controls other
/// than newline and tab (ESC, BEL, CR, backspace…), DEL, and the C1 range, which some
/// terminals obey as well (U+009B is a one-character CSI).
pub fn terminal_control(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| {
        (c.is_control() && c != '\n' && c != '\t') || ('\u{80}'..='\u{9f}').contains(&c)
    })
}

/// Raw bytes as a fuzz input hands them over, for text fields: mostly printable, with
/// the control characters and odd Unicode a hostile path or secret would carry.
fn text(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    let bytes: Vec<u8> = Arbitrary::arbitrary(u)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn opt_text(u: &mut Unstructured<'_>) -> arbitrary::Result<Option<String>> {
    Ok(if u.arbitrary()? { Some(text(u)?) } else { None })
}

fn confidence(u: &mut Unstructured<'_>) -> arbitrary::Result<Confidence> {
    Ok(*u.choose(&[Confidence::Low, Confidence::Medium, Confidence::High])?)
}

/// Any finding a report could be handed, every string field free-form.
pub fn finding(u: &mut Unstructured<'_>) -> arbitrary::Result<Finding> {
    let git = if u.arbitrary()? {
        Some(GitContext {
            commit: text(u)?,
            blob: text(u)?,
            author_name: text(u)?,
            author_email: text(u)?,
            date: text(u)?,
            summary: text(u)?,
            other_locations: u.arbitrary()?,
        })
    } else {
        None
    };
    let k8s = if u.arbitrary()? {
        Some(K8sContext {
            api_version: opt_text(u)?,
            kind: opt_text(u)?,
            namespace: opt_text(u)?,
            name: opt_text(u)?,
            container: opt_text(u)?,
            field: opt_text(u)?,
            env: opt_text(u)?,
            technique: if u.arbitrary()? {
                Some(TechniqueInfo {
                    id: text(u)?,
                    name: text(u)?,
                    mitre: text(u)?,
                })
            } else {
                None
            },
            detail: opt_text(u)?,
            subjects: {
                let n = u.int_in_range(0..=3)?;
                (0..n).map(|_| text(u)).collect::<arbitrary::Result<_>>()?
            },
        })
    } else {
        None
    };
    let decoded = {
        let n = u.int_in_range(0..=3)?;
        (0..n).map(|_| text(u)).collect::<arbitrary::Result<_>>()?
    };
    // Entropy is computed by the engine and is always finite; JSON cannot carry NaN.
    let entropy = f64::from(u.int_in_range(0u32..=8000)?) / 1000.0;
    Ok(Finding {
        rule_id: text(u)?,
        rule_name: text(u)?,
        description: opt_text(u)?,
        confidence: confidence(u)?,
        path: text(u)?,
        line: u.arbitrary()?,
        column: u.arbitrary()?,
        end_line: u.arbitrary()?,
        end_column: u.arbitrary()?,
        secret: text(u)?,
        redacted: u.arbitrary()?,
        entropy,
        fingerprint: text(u)?,
        decoded,
        snippet: text(u)?,
        git,
        k8s,
    })
}
