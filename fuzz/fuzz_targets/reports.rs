//! Every report writer fed arbitrary findings (any text in any field). Asserts:
//! JSON, SARIF and GitLab output parse as JSON and carry one result per finding; JSONL
//! is one JSON document per finding; JUnit parses as XML with one testcase per finding
//! (one passing testcase when there are none); CSV reads back as a header and one record
//! per finding, each with one cell per column; human output holds no terminal control
//! character (ESC, BEL, CR, C1…) that a path, secret or snippet could smuggle in.
#![no_main]

use std::time::{Duration, SystemTime};

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use tollgate::finding::Finding;
use tollgate::report::{Format, CSV_COLUMNS};
use tollgate::scan::{HistorySummary, Summary};
use tollgate_fuzz::{finding, skipped, terminal_control};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(n) = u.int_in_range(0..=4usize) else {
        return;
    };
    let Ok(findings) = (0..n)
        .map(|_| finding(&mut u))
        .collect::<arbitrary::Result<Vec<_>>>()
    else {
        return;
    };
    let summary = summary(&mut u, &findings);

    let json = write(Format::Json, &findings, &summary);
    let doc = parse_json(&json, "json");
    assert_eq!(
        doc["findings"].as_array().map(Vec::len),
        Some(n),
        "json findings"
    );

    let jsonl = write(Format::Jsonl, &findings, &summary);
    let lines: Vec<&[u8]> = jsonl
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), n, "one JSONL line per finding");
    for line in lines {
        parse_json(line, "jsonl");
    }

    let sarif = parse_json(&write(Format::Sarif, &findings, &summary), "sarif");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(n),
        "one SARIF result per finding"
    );

    let gitlab = parse_json(&write(Format::Gitlab, &findings, &summary), "gitlab");
    assert_eq!(
        gitlab["vulnerabilities"].as_array().map(Vec::len),
        Some(n),
        "one GitLab vulnerability per finding"
    );

    let junit = write(Format::Junit, &findings, &summary);
    let junit = std::str::from_utf8(&junit).expect("JUnit output is UTF-8");
    let xml = roxmltree::Document::parse(junit)
        .unwrap_or_else(|e| panic!("JUnit output is not XML: {e}\n{junit}"));
    let cases = xml
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, n.max(1), "one testcase per finding");

    let csv = write(Format::Csv, &findings, &summary);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv.as_slice());
    let headers = reader.headers().expect("a CSV header").clone();
    assert_eq!(headers.iter().collect::<Vec<_>>(), CSV_COLUMNS);
    let records: Vec<csv::StringRecord> = reader
        .records()
        .map(|r| r.unwrap_or_else(|e| panic!("CSV does not read back: {e}")))
        .collect();
    assert_eq!(records.len(), n, "one CSV record per finding");
    for r in &records {
        assert_eq!(r.len(), CSV_COLUMNS.len(), "one cell per column");
    }

    if !skipped("human-controls") {
        let human = write(Format::Human, &findings, &summary);
        let human = String::from_utf8_lossy(&human);
        if let Some((at, c)) = terminal_control(&human) {
            panic!("human output holds {c:?} at byte {at}:\n{human:?}");
        }
    }
});

fn summary(u: &mut Unstructured<'_>, findings: &[Finding]) -> Summary {
    let mut s = Summary {
        findings: findings.len() as u64,
        files_scanned: u.arbitrary().unwrap_or(0),
        warnings: u.int_in_range(0..=2).unwrap_or(0),
        roots_unscanned: u.int_in_range(0..=2).unwrap_or(0),
        duration_ms: u.int_in_range(0..=100_000).unwrap_or(0),
        started_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000)),
        ..Summary::default()
    };
    if u.arbitrary().unwrap_or(false) {
        s.history = Some(HistorySummary {
            commits: u.arbitrary().unwrap_or(0),
            complete: u.arbitrary().unwrap_or(true),
            object_format: "sha1".into(),
            ..HistorySummary::default()
        });
    }
    s
}

fn write(format: Format, findings: &[Finding], summary: &Summary) -> Vec<u8> {
    let mut out = termcolor::NoColor::new(Vec::new());
    format
        .report()
        .write(findings, summary, &mut out)
        .unwrap_or_else(|e| panic!("{format:?} report failed: {e}"));
    out.into_inner()
}

fn parse_json(bytes: &[u8], what: &str) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| {
        panic!(
            "{what} output is not JSON: {e}\n{}",
            String::from_utf8_lossy(bytes)
        )
    })
}
