//! `--format csv`: a header, then one row per finding, for spreadsheets and ad-hoc
//! triage. Columns are `CSV_COLUMNS`; empty cells where a field does not apply.
//!
//! A cell that a spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`, a
//! tab or a carriage return) gets a leading `'`, so a hostile path or snippet cannot run
//! anything when the file is opened (CSV/formula injection).
//!
//! Control characters (ESC, BEL, newlines, C1 controls) and bidirectional overrides are
//! written as visible `\u{..}` escapes, as in every human-facing format: a viewer that
//! prints the file (`cat`, `column`) or a spreadsheet cell then shows what is there
//! instead of acting on it, and every row stays on one line. Quoting stays the CSV
//! writer's, so the file reads back cell for cell.

use std::io;

use termcolor::WriteColor;

use super::Report;
use crate::finding::Finding;
use crate::scan::Summary;
use crate::snippet::escaped;

pub const CSV_COLUMNS: [&str; 24] = [
    "rule_id",
    "rule_name",
    "confidence",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "secret",
    "entropy",
    "fingerprint",
    "decoded",
    "commit",
    "author_email",
    "date",
    "k8s_kind",
    "k8s_namespace",
    "k8s_name",
    "k8s_container",
    "k8s_env",
    "k8s_field",
    "technique",
    "mitre",
    "snippet",
];

pub struct CsvReport;

/// `cell`, with a leading `'` when a spreadsheet would take it for a formula.
pub fn defuse(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

fn row(f: &Finding) -> Vec<String> {
    let git = f.git.as_ref();
    let k8s = f.k8s.as_ref();
    let k = |get: fn(&crate::finding::K8sContext) -> &Option<String>| {
        k8s.and_then(|k| get(k).clone()).unwrap_or_default()
    };
    let technique = k8s.and_then(|k| k.technique.as_ref());
    vec![
        f.rule_id.clone(),
        f.rule_name.clone(),
        f.confidence.as_str().to_string(),
        f.path.clone(),
        f.line.to_string(),
        f.column.to_string(),
        f.end_line.to_string(),
        f.end_column.to_string(),
        f.secret.clone(),
        format!("{:.3}", f.entropy),
        f.fingerprint.clone(),
        f.decoded.join("/"),
        git.map(|g| g.commit.clone()).unwrap_or_default(),
        git.map(|g| g.author_email.clone()).unwrap_or_default(),
        git.map(|g| g.date.clone()).unwrap_or_default(),
        k(|k| &k.kind),
        k(|k| &k.namespace),
        k(|k| &k.name),
        k(|k| &k.container),
        k(|k| &k.env),
        k(|k| &k.field),
        technique.map(|t| t.id.clone()).unwrap_or_default(),
        technique.map(|t| t.mitre.clone()).unwrap_or_default(),
        f.snippet.clone(),
    ]
}

impl Report for CsvReport {
    fn write(
        &self,
        findings: &[Finding],
        _summary: &Summary,
        out: &mut dyn WriteColor,
    ) -> io::Result<()> {
        let mut w = ::csv::Writer::from_writer(&mut *out);
        w.write_record(CSV_COLUMNS)?;
        for f in findings {
            w.write_record(row(f).iter().map(|c| defuse(&escaped(c))))?;
        }
        w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample_finding;
    use termcolor::NoColor;

    #[test]
    fn formulas_are_defused() {
        for hostile in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(defuse(hostile), format!("'{hostile}"));
        }
        assert_eq!(defuse("config/.env"), "config/.env");
        assert_eq!(defuse(""), "");
    }

    #[test]
    fn rows_parse_back_with_one_cell_per_column() {
        let mut f = sample_finding();
        f.path = "=HYPERLINK(\"http://x\",\"a,b\")\n.env".into();
        let mut out = NoColor::new(Vec::new());
        CsvReport
            .write(
                &[f.clone(), sample_finding()],
                &Summary::default(),
                &mut out,
            )
            .unwrap();
        let bytes = out.into_inner();
        let mut r = ::csv::Reader::from_reader(bytes.as_slice());
        assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), CSV_COLUMNS);
        let rows: Vec<::csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].len(), CSV_COLUMNS.len());
        assert_eq!(&rows[0][3], "'=HYPERLINK(\"http://x\",\"a,b\")\\u{a}.env");
        assert_eq!(&rows[1][3], "config/.env");
        assert_eq!(&rows[1][8], "ghp_…");
    }
}
