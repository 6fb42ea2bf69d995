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
pub use json::{JsonLinesReport, JsonReport, JSON_SCHEMA_VERSION};
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
