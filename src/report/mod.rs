//! Reports turn findings into bytes. Every format is one `Report` implementation in its
//! own file; the caller picks one by `Format` and hands it a writer.

mod human;
mod json;
mod sarif;

use std::io;

use termcolor::WriteColor;

use crate::finding::Finding;
use crate::scan::Summary;

pub use human::{write_summary, HumanReport};
pub use json::{JsonLinesReport, JsonReport, JSON_SCHEMA_VERSION};
pub use sarif::SarifReport;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Jsonl,
    Sarif,
}

impl Format {
    pub fn report(self) -> Box<dyn Report> {
        match self {
            Format::Human => Box::new(HumanReport),
            Format::Json => Box::new(JsonReport),
            Format::Jsonl => Box::new(JsonLinesReport),
            Format::Sarif => Box::new(SarifReport),
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
