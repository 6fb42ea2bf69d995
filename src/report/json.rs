//! `--format json`: one document, `{"version", "tool", "findings", "summary"}`;
//! `--format jsonl`: one finding per line, nothing else, for streaming consumers.
//! With `--explain`, the JSON document also has `explain`: the candidates not reported.

use std::io;

use serde::Serialize;
use termcolor::WriteColor;

use super::Report;
use crate::finding::Finding;
use crate::scan::{Explained, Summary};

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
    /// Only with `--explain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    explain: Option<&'a [Explained]>,
}

pub struct JsonReport;

impl Report for JsonReport {
    fn write(
        &self,
        findings: &[Finding],
        summary: &Summary,
        out: &mut dyn WriteColor,
    ) -> io::Result<()> {
        write_document(findings, summary, None, out)
    }
}

/// The JSON document with an `explain` array: every candidate not reported, and why.
pub fn write_json_explained(
    findings: &[Finding],
    summary: &Summary,
    explained: &[Explained],
    out: &mut dyn WriteColor,
) -> io::Result<()> {
    write_document(findings, summary, Some(explained), out)
}

fn write_document(
    findings: &[Finding],
    summary: &Summary,
    explain: Option<&[Explained]>,
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
        explain,
    };
    super::write_json(&mut *out, &doc, true)?;
    writeln!(out)
}

/// `--explain` in human form: one line per candidate not reported.
pub fn write_explained(explained: &[Explained], out: &mut dyn WriteColor) -> io::Result<()> {
    for e in explained {
        let line = format!(
            "explain: {}:{}:{}: {} `{}` not reported: {}",
            e.path, e.line, e.column, e.rule_id, e.secret, e.reason
        );
        writeln!(out, "{}", crate::snippet::escaped(&line))?;
    }
    Ok(())
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
