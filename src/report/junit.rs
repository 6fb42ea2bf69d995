//! `--format junit`: JUnit XML for CI systems that show test results (GitLab's
//! `artifacts:reports:junit`, Jenkins, Azure DevOps). One `<testsuite name="tollgate">`
//! with one failing `<testcase>` per finding; a clean scan is one passing testcase, so
//! the report is never empty and a reader can tell "scanned, nothing found" from
//! "no report".
//!
//! Paths and snippets can hold anything. Every field is first escaped as for a terminal
//! (`snippet::escaped`: controls, C1 controls, bidirectional overrides, newlines), since
//! CI pages and consoles show these reports to people; what XML 1.0 cannot carry at all
//! (U+FFFE, U+FFFF) is written as a visible `\u{..}` escape too, and markup characters as
//! entities.

use std::io;

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use termcolor::WriteColor;

use super::human::short_commit;
use super::Report;
use crate::finding::Finding;
use crate::scan::Summary;
use crate::snippet::escaped;

pub struct JunitReport;

/// A character XML 1.0 allows in a document (its `Char` production).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

/// `s` as XML character data: markup escaped, forbidden characters made visible. In an
/// attribute, whitespace other than a space is written as a character reference too, or a
/// parser would normalise it to a space.
pub fn xml_escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if !xml_char(c) => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

fn element<'a>(name: &'a str, attributes: &[(&str, String)]) -> BytesStart<'a> {
    let mut e = BytesStart::new(name);
    for (key, value) in attributes {
        let value = xml_escape(&escaped(value), true);
        e.push_attribute(Attribute::from((key.as_bytes(), value.as_bytes())));
    }
    e
}

/// `rule (line N)`, and the commit in a history scan, where one rule and line can come
/// from several commits.
fn testcase_name(f: &Finding) -> String {
    let mut name = format!("{} (line {})", f.rule_id, f.line);
    if let Some(g) = f.git.as_ref().filter(|g| !g.commit.is_empty()) {
        name.push_str(&format!(" @ {}", short_commit(&g.commit)));
    }
    name
}

/// One line: what, how sure, where, in which commit and where in Kubernetes.
pub fn failure_message(f: &Finding) -> String {
    let mut m = format!(
        "{}, {} confidence, at {}:{}:{}",
        f.rule_name,
        f.confidence.as_str(),
        f.path,
        f.line,
        f.column
    );
    if let Some(g) = f.git.as_ref().filter(|g| !g.commit.is_empty()) {
        m.push_str(&format!(" in commit {}", short_commit(&g.commit)));
    }
    if let Some(first) = f.k8s.as_ref().and_then(|k| k.describe().into_iter().next()) {
        m.push_str(&format!("; {first}"));
    }
    m
}

/// The failure's body: everything a reviewer needs, the secret only in its reported
/// (redacted unless `--no-redact`) form.
/// Each field escaped on its own: the newlines between them are the body's.
fn failure_body(f: &Finding) -> String {
    let mut b = format!(
        "rule: {} ({})\nconfidence: {}\nlocation: {}:{}:{}\n",
        escaped(&f.rule_id),
        escaped(&f.rule_name),
        f.confidence.as_str(),
        escaped(&f.path),
        f.line,
        f.column
    );
    if !f.secret.is_empty() {
        b.push_str(&format!("secret: {}\n", escaped(&f.secret)));
    }
    if !f.decoded.is_empty() {
        b.push_str(&format!(
            "decoded from: {}\n",
            escaped(&f.decoded.join("/"))
        ));
    }
    b.push_str(&format!("fingerprint: {}\n", escaped(&f.fingerprint)));
    if let Some(g) = f.git.as_ref().filter(|g| !g.commit.is_empty()) {
        b.push_str(&format!(
            "commit: {}\nauthor: {} <{}>\ndate: {}\nsummary: {}\n",
            escaped(&g.commit),
            escaped(&g.author_name),
            escaped(&g.author_email),
            escaped(&g.date),
            escaped(&g.summary)
        ));
    }
    if let Some(k) = &f.k8s {
        for line in k.describe() {
            b.push_str(&format!("kubernetes: {}\n", escaped(&line)));
        }
    }
    if !f.snippet.is_empty() {
        b.push_str(&format!("line: {}\n", escaped(&f.snippet)));
    }
    b
}

fn write_xml<W: io::Write>(
    findings: &[Finding],
    summary: &Summary,
    w: &mut Writer<W>,
) -> io::Result<()> {
    let tests = findings.len().max(1).to_string();
    let failures = findings.len().to_string();
    let time = format!("{:.3}", summary.duration_ms as f64 / 1000.0);
    let counts = [
        ("tests", tests),
        ("failures", failures),
        ("errors", "0".to_string()),
        ("time", time),
    ];
    let mut suites_attrs = vec![("name", "tollgate".to_string())];
    suites_attrs.extend(counts.iter().cloned());
    let mut suite_attrs = suites_attrs.clone();
    suite_attrs.insert(3, ("skipped", "0".to_string()));

    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(element("testsuites", &suites_attrs)))?;
    w.write_event(Event::Start(element("testsuite", &suite_attrs)))?;
    if findings.is_empty() {
        w.write_event(Event::Empty(element(
            "testcase",
            &[
                ("classname", "tollgate".to_string()),
                ("name", "no secrets found".to_string()),
                ("time", "0".to_string()),
            ],
        )))?;
    }
    for f in findings {
        w.write_event(Event::Start(element(
            "testcase",
            &[
                ("classname", f.path.clone()),
                ("name", testcase_name(f)),
                ("time", "0".to_string()),
            ],
        )))?;
        w.write_event(Event::Start(element(
            "failure",
            &[("message", failure_message(f)), ("type", f.rule_id.clone())],
        )))?;
        w.write_event(Event::Text(BytesText::from_escaped(xml_escape(
            &failure_body(f),
            false,
        ))))?;
        w.write_event(Event::End(BytesEnd::new("failure")))?;
        w.write_event(Event::End(BytesEnd::new("testcase")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    Ok(())
}

impl Report for JunitReport {
    fn write(
        &self,
        findings: &[Finding],
        summary: &Summary,
        out: &mut dyn WriteColor,
    ) -> io::Result<()> {
        let mut w = Writer::new_with_indent(&mut *out, b' ', 2);
        write_xml(findings, summary, &mut w)?;
        writeln!(w.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample_finding;
    use termcolor::NoColor;

    fn render(findings: &[Finding]) -> String {
        let mut out = NoColor::new(Vec::new());
        let summary = Summary {
            duration_ms: 1234,
            ..Summary::default()
        };
        JunitReport.write(findings, &summary, &mut out).unwrap();
        String::from_utf8(out.into_inner()).unwrap()
    }

    #[test]
    fn escaping_keeps_the_document_well_formed() {
        assert_eq!(xml_escape("a<b>&\"'", false), "a&lt;b&gt;&amp;\"'");
        assert_eq!(xml_escape("a\"'\t\n", true), "a&quot;&apos;&#9;&#10;");
        assert_eq!(xml_escape("x\u{1}y\u{1b}", false), "x\\u{1}y\\u{1b}");
        assert_eq!(xml_escape("\u{FFFE}\u{FFFF}", false), "\\u{fffe}\\u{ffff}");
        assert_eq!(xml_escape("é😀\u{7f}", false), "é😀\u{7f}");
    }

    #[test]
    fn a_hostile_path_parses_back_with_its_controls_made_visible() {
        let mut f = sample_finding();
        f.path = "a<b>&\"c\"/'d'\u{1}\n]]>.env".into();
        let xml = render(&[f]);
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let case = doc
            .descendants()
            .find(|n| n.has_tag_name("testcase"))
            .unwrap();
        assert_eq!(
            case.attribute("classname"),
            Some("a<b>&\"c\"/'d'\\u{1}\\u{a}]]>.env")
        );
    }

    #[test]
    fn counts_and_the_clean_case() {
        let xml = render(&[]);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert_eq!(suite.attribute("tests"), Some("1"));
        assert_eq!(suite.attribute("failures"), Some("0"));
        assert_eq!(suite.attribute("time"), Some("1.234"));
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("failure"))
                .count(),
            0
        );

        let xml = render(&[sample_finding(), sample_finding()]);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert_eq!(suite.attribute("tests"), Some("2"));
        assert_eq!(suite.attribute("failures"), Some("2"));
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("failure"))
                .count(),
            2
        );
    }
}
