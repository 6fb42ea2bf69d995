//! `--format json`: one document, `{"version", "tool", "findings", "summary"}`;
//! `--format jsonl`: one finding per line, nothing else, for streaming consumers.

use std::io;

use serde::Serialize;
use termcolor::WriteColor;

use super::Report;
use crate::finding::Finding;
use crate::scan::Summary;

/// Bumped only on incompatible changes to the JSON document.
pub const JSON_SCHEMA_VERSION: &str = "1";

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Document<'a> {
    version: &'static str,
    tool: Tool,
    findings: &'a [Finding],
    summary: &'a Summary,
}

pub struct JsonReport;

impl Report for JsonReport {
    fn write(
        &self,
        findings: &[Finding],
        summary: &Summary,
        out: &mut dyn WriteColor,
    ) -> io::Result<()> {
        let doc = Document {
            version: JSON_SCHEMA_VERSION,
            tool: Tool {
                name: "tollgate",
                version: env!("CARGO_PKG_VERSION"),
            },
            findings,
            summary,
        };
        super::write_json(&mut *out, &doc, true)?;
        writeln!(out)
    }
}

pub struct JsonLinesReport;

impl Report for JsonLinesReport {
    fn write(
        &self,
        findings: &[Finding],
        _summary: &Summary,
        out: &mut dyn WriteColor,
    ) -> io::Result<()> {
        for f in findings {
            super::write_json(&mut *out, f, false)?;
            writeln!(out)?;
        }
        Ok(())
    }
}
