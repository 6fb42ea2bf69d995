//! `--format human`: findings grouped by file, the line shown with the secret masked,
//! colour only on a terminal, and a summary line at the end. Every field is written
//! through `escaped`: a path, a rule name from a user's rule file, a commit's author or
//! the secret itself can hold escape sequences, and none may drive the terminal.

use std::io;

use termcolor::{Color, ColorSpec, WriteColor};

use super::Report;
use crate::finding::{Confidence, Finding};
use crate::scan::Summary;
use crate::snippet::escaped;

pub struct HumanReport;

fn confidence_color(c: Confidence) -> Color {
    match c {
        Confidence::High => Color::Red,
        Confidence::Medium => Color::Yellow,
        Confidence::Low => Color::Cyan,
    }
}

impl Report for HumanReport {
    fn write(
        &self,
        findings: &[Finding],
        summary: &Summary,
        out: &mut dyn WriteColor,
    ) -> io::Result<()> {
        let mut current: Option<&str> = None;
        for f in findings {
            if current != Some(f.path.as_str()) {
                if current.is_some() {
                    writeln!(out)?;
                }
                out.set_color(ColorSpec::new().set_fg(Some(Color::Magenta)).set_bold(true))?;
                writeln!(out, "{}", escaped(&f.path))?;
                out.reset()?;
                current = Some(&f.path);
            }
            let location = match &f.git {
                Some(g) => format!(
                    "{}:{}:{}",
                    escaped(short_commit(&g.commit)),
                    escaped(&f.path),
                    f.line
                ),
                None => format!("{}:{}", f.line, f.column),
            };
            out.set_color(ColorSpec::new().set_fg(Some(Color::Green)))?;
            write!(out, "  {location}")?;
            out.reset()?;
            write!(out, "  ")?;
            out.set_color(
                ColorSpec::new()
                    .set_fg(Some(confidence_color(f.confidence)))
                    .set_bold(true),
            )?;
            write!(out, "{}", f.confidence.as_str())?;
            out.reset()?;
            write!(out, "  {}  {}", escaped(&f.rule_id), escaped(&f.rule_name))?;
            if !f.decoded.is_empty() {
                write!(out, " (in {} text)", escaped(&f.decoded.join(" → ")))?;
            }
            writeln!(out)?;
            if f.secret.is_empty() {
                writeln!(out, "    fingerprint: {}", escaped(&f.fingerprint))?;
            } else {
                writeln!(
                    out,
                    "    secret: {}   fingerprint: {}",
                    escaped(&f.secret),
                    escaped(&f.fingerprint)
                )?;
            }
            if !f.snippet.is_empty() {
                out.set_color(ColorSpec::new().set_dimmed(true))?;
                writeln!(out, "    {}", escaped(&f.snippet))?;
                out.reset()?;
            }
            if let Some(k) = &f.k8s {
                for line in k.describe() {
                    writeln!(out, "    {}", escaped(&line))?;
                }
            }
            if let Some(g) = &f.git {
                writeln!(
                    out,
                    "    commit {} by {} <{}> on {}: {}",
                    escaped(&g.commit),
                    escaped(&g.author_name),
                    escaped(&g.author_email),
                    escaped(&g.date),
                    escaped(&g.summary)
                )?;
            }
        }
        if !findings.is_empty() {
            writeln!(out)?;
        }
        write_summary(summary, out)
    }
}

pub(crate) fn short_commit(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// One line a reader can take in at a glance.
pub fn write_summary(s: &Summary, out: &mut dyn WriteColor) -> io::Result<()> {
    let listed = |items: &[(u64, &str)]| -> Vec<String> {
        items
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect()
    };
    let suppressed = listed(&[
        (s.suppressed_baseline, "by baseline"),
        (s.suppressed_inline, "inline (tollgate:allow)"),
        (s.suppressed_config, "by config"),
        (s.suppressed_not_added, "on lines the change did not add"),
    ]);
    let skipped = listed(&[
        (s.skipped.binary, "binary"),
        (s.skipped.too_large, "too large"),
        (s.skipped.lfs_pointer, "LFS"),
        (s.skipped.allow_paths, "by allow-paths"),
        (s.skipped.submodule, "submodule"),
        (s.skipped.symlink, "symlink"),
        (s.skipped.special, "special"),
        (s.skipped.unreadable, "unreadable"),
    ]);
    let color = if s.findings > 0 {
        Color::Red
    } else {
        Color::Green
    };
    out.set_color(ColorSpec::new().set_fg(Some(color)).set_bold(true))?;
    write!(out, "{} findings", s.findings)?;
    out.reset()?;
    let scanned = match &s.history {
        Some(h) => format!("{} blobs of {} commits", s.files_scanned, h.commits),
        None => format!("{} files", s.files_scanned),
    };
    write!(
        out,
        " ({} high, {} medium, {} low) in {scanned}, {}, {:.2}s",
        s.by_confidence.high,
        s.by_confidence.medium,
        s.by_confidence.low,
        human_bytes(s.bytes_scanned),
        s.duration_ms as f64 / 1000.0
    )?;
    if !suppressed.is_empty() {
        write!(out, "; suppressed {}", suppressed.join(", "))?;
    }
    if !skipped.is_empty() {
        write!(out, "; skipped {}", skipped.join(", "))?;
    }
    if s.baseline_stale > 0 {
        write!(
            out,
            "; {} baseline entries stale (`tollgate baseline prune`)",
            s.baseline_stale
        )?;
    }
    if s.warnings > 0 {
        write!(out, "; {} warnings", s.warnings)?;
    }
    // "0 findings" from a scan that could not read everything is no clean bill.
    if s.history.as_ref().is_some_and(|h| !h.complete) {
        out.set_color(ColorSpec::new().set_fg(Some(Color::Red)).set_bold(true))?;
        write!(out, "; INCOMPLETE: part of the history could not be read")?;
        out.reset()?;
    }
    writeln!(out)
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_shown_in_binary_units() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
