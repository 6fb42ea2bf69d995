//! Reports turn findings into bytes. Every format is one `Report` implementation in its
//! own file; the caller picks one by `Format` and hands it a writer.

mod csv;
mod gitlab;
mod human;
mod json;
mod junit;
mod sarif;

use std::io;

use termcolor::WriteColor;

use crate::finding::Finding;
use crate::scan::Summary;

pub use self::csv::{CsvReport, CSV_COLUMNS};
pub use gitlab::{GitlabReport, GITLAB_SCHEMA_VERSION};
pub use human::{write_summary, HumanReport};
pub use json::{
    write_explained, write_json_explained, JsonLinesReport, JsonReport, JSON_SCHEMA_VERSION,
};
pub use junit::JunitReport;
pub use sarif::SarifReport;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Jsonl,
    Sarif,
    Gitlab,
    Junit,
    Csv,
}

impl Format {
    pub fn report(self) -> Box<dyn Report> {
        match self {
            Format::Human => Box::new(HumanReport),
            Format::Json => Box::new(JsonReport),
            Format::Jsonl => Box::new(JsonLinesReport),
            Format::Sarif => Box::new(SarifReport),
            Format::Gitlab => Box::new(GitlabReport),
            Format::Junit => Box::new(JunitReport),
            Format::Csv => Box::new(CsvReport),
        }
    }
}

/// One output format.
pub trait Report {
    fn write(
        &self,
        findings: &[Finding],
        summary: &Summary,
        out: &mut dyn WriteColor,
    ) -> io::Result<()>;
}

/// Write `value` as JSON (pretty or on one line) with every character a display acts on
/// as a `\uXXXX` escape. serde escapes C0 controls itself; DEL, C1 controls (U+009B, the
/// 8-bit CSI) and bidirectional overrides are valid JSON as they are, but a terminal that
/// shows the report would act on them. They can only occur inside strings, and the escape
/// stands for the same character, so a JSON reader gets the same values.
pub(crate) fn write_json<T: serde::Serialize>(
    out: &mut dyn io::Write,
    value: &T,
    pretty: bool,
) -> io::Result<()> {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .map_err(io::Error::other)?;
    out.write_all(display_safe_json(&text).as_bytes())
}

fn display_safe_json(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c >= '\u{7f}' && crate::snippet::acts_on_display(c);
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut safe = String::with_capacity(text.len() + 64);
    for c in text.chars() {
        if unsafe_char(c) {
            // Every such character is in the Basic Multilingual Plane: one escape.
            safe.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            safe.push(c);
        }
    }
    std::borrow::Cow::Owned(safe)
}

/// A finding as a `dir` scan reports it, for the formats' unit tests.
#[cfg(test)]
pub(crate) fn sample_finding() -> Finding {
    Finding {
        rule_id: "github.pat".into(),
        rule_name: "GitHub personal access token".into(),
        description: None,
        confidence: crate::finding::Confidence::High,
        path: "config/.env".into(),
        line: 3,
        column: 14,
        end_line: 3,
        end_column: 54,
        secret: "ghp_…".into(),
        redacted: true,
        entropy: 4.81234,
        fingerprint: "0123456789abcdef0123456789abcdef".into(),
        decoded: vec![],
        snippet: "GITHUB_TOKEN=ghp_…".into(),
        git: None,
        k8s: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_what_a_display_acts_on_and_reads_back_the_same() {
        let hostile = "\u{1b}[2J\u{7}\u{7f}\u{85}\u{9b}31m\u{202e}gpj.exe\u{2028}\n\"\\é";
        let mut out = Vec::new();
        write_json(&mut out, &serde_json::json!({ "path": hostile }), true).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && crate::snippet::acts_on_display(c)),
            "{text:?}"
        );
        assert!(
            text.contains("\\u009b") && text.contains("\\u202e"),
            "{text}"
        );
        assert!(text.contains('é'), "other text stays as it is: {text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["path"], hostile);
    }
}
