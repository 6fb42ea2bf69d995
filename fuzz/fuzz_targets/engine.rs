//! The engine over arbitrary bytes, every decoder on. Asserts, for every input:
//! - every match's span lies inside the input; a direct match's span is its secret, and a
//!   decoded match's inner span holds its secret in a layer that decoding the reported
//!   span along the match's chain of encodings produces;
//! - scanning is deterministic, with a warm scratch and with a fresh one;
//! - a line of its own in front (`PREFIX`) changes nothing but the offsets;
//! - the redacted human and JSON reports never hold a secret in full, and the human report
//!   holds no terminal control character, redacted or not (the input is the pusher's).
#![no_main]

use std::ops::Range;

use libfuzzer_sys::fuzz_target;
use tollgate::engine::decode::{self, DecodedSpan, Encoding};
use tollgate::engine::{Match, Scratch};
use tollgate::report::{HumanReport, JsonReport, Report};
use tollgate::scan::{scan_blob, Summary};
use tollgate::source::Provenance;
use tollgate_fuzz::{engine, engine_options, scan_config, skipped, terminal_control};

/// A line no rule can use: no keyword, no base64 or base64url character, no `%`, so no
/// decoder can join it to the text after it. A prefix such as `neutral line\n` would not
/// do: its letters are base64 and would extend a base64 run that starts `A`.
const PREFIX: &[u8] = b"# ~ ~ ~\n";

fuzz_target!(|data: &[u8]| {
    let engine = engine();
    let mut scratch = Scratch::default();
    let first = engine.scan(data, &mut scratch).matches;
    for m in &first {
        check_spans(data, m);
    }

    let again = engine.scan(data, &mut scratch).matches;
    assert_eq!(first, again, "a second scan with a warm scratch differs");
    let fresh = engine.scan(data, &mut Scratch::default()).matches;
    assert_eq!(first, fresh, "a scan with a fresh scratch differs");

    let mut prefixed = PREFIX.to_vec();
    prefixed.extend_from_slice(data);
    let shifted: Vec<Match> = engine
        .scan(&prefixed, &mut scratch)
        .matches
        .into_iter()
        .map(|mut m| {
            assert!(
                m.span.start >= PREFIX.len(),
                "a match reaches into the neutral prefix: {m:?}"
            );
            m.span = m.span.start - PREFIX.len()..m.span.end - PREFIX.len();
            if m.decoded.is_empty() {
                m.inner = m.span.clone();
            }
            m
        })
        .collect();
    assert_eq!(
        first, shifted,
        "a neutral line in front changed the findings"
    );

    check_redacted_reports(data, &first);
});

fn check_spans(data: &[u8], m: &Match) {
    assert!(
        m.span.start <= m.span.end && m.span.end <= data.len(),
        "span {:?} outside the input ({} bytes)",
        m.span,
        data.len()
    );
    assert!(
        m.inner.start <= m.inner.end,
        "inverted inner span {:?}",
        m.inner
    );
    assert_eq!(
        m.inner.len(),
        m.secret.len(),
        "inner span and secret differ in length"
    );
    if m.decoded.is_empty() {
        assert_eq!(m.span, m.inner, "a direct match's span is its secret");
        assert_eq!(&data[m.span.clone()], &m.secret[..]);
        return;
    }
    assert!(
        m.decoded.len() <= engine_options().decode_depth,
        "decoded deeper than the limit: {:?}",
        m.decoded
    );
    let layers = decoded_layers(data, m.span.clone(), &m.decoded);
    assert!(
        layers
            .iter()
            .any(|l| l.get(m.inner.clone()) == Some(&m.secret[..])),
        "no layer decoded from {:?} along {:?} holds the secret at {:?}",
        m.span,
        m.decoded,
        m.inner
    );
}

/// Every text that decoding `span` with `chain[0]`, then any span of the result with
/// `chain[1]`, and so on, produces: the layers a decoded match may come from.
fn decoded_layers(data: &[u8], span: Range<usize>, chain: &[Encoding]) -> Vec<Vec<u8>> {
    let limits = engine_options().decode_limits;
    let decode_all = |text: &[u8]| {
        let mut spans: Vec<DecodedSpan> = Vec::new();
        decode::decode_base64_spans(text, limits, &mut spans);
        decode::decode_percent_spans(text, limits, &mut spans);
        spans
    };
    let mut layers: Vec<Vec<u8>> = decode_all(data)
        .into_iter()
        .filter(|s| (s.start..s.end) == span && s.encoding == chain[0])
        .map(|s| s.bytes)
        .collect();
    assert!(
        !layers.is_empty(),
        "no {:?} span at {:?} decodes: the reported span is not where the text came from",
        chain[0],
        span
    );
    for &encoding in &chain[1..] {
        layers = layers
            .iter()
            .flat_map(|layer| decode_all(layer))
            .filter(|s| s.encoding == encoding)
            .map(|s| s.bytes)
            .collect();
    }
    layers
}

/// Secrets this short could be in a report by chance (a rule name, a field name).
const MIN_SECRET_CHECKED: usize = 12;

fn check_redacted_reports(data: &[u8], matches: &[Match]) {
    if matches.is_empty() {
        return;
    }
    let provenance = Provenance {
        path: "fuzz.env".into(),
        rel_path: "fuzz.env".into(),
        git: None,
    };
    let config = scan_config(true);
    let report = scan_blob(
        engine(),
        data,
        &provenance,
        &config,
        &mut Scratch::default(),
    );
    let mut outputs = Vec::new();
    for writer in [&HumanReport as &dyn Report, &JsonReport] {
        outputs.push(write(writer, &report.findings));
    }
    if !skipped("human-controls") {
        let unredacted = scan_config(false);
        let shown = scan_blob(
            engine(),
            data,
            &provenance,
            &unredacted,
            &mut Scratch::default(),
        );
        for human in [&outputs[0], &write(&HumanReport, &shown.findings)] {
            let human = String::from_utf8_lossy(human);
            if let Some((at, c)) = terminal_control(&human) {
                panic!("the human report holds {c:?} at byte {at}:\n{human:?}");
            }
        }
    }
    // Text every report carries whatever the input: a secret inside it is not a leak.
    let fixed: Vec<u8> = report
        .findings
        .iter()
        .flat_map(|f| {
            [
                f.rule_id.as_bytes(),
                f.rule_name.as_bytes(),
                f.path.as_bytes(),
            ]
            .concat()
            .into_iter()
            .chain(f.description.iter().flat_map(|d| d.bytes()))
        })
        .collect();
    for m in matches {
        let secret = &m.secret;
        if secret.len() < MIN_SECRET_CHECKED || contains(&fixed, secret) {
            continue;
        }
        for out in &outputs {
            assert!(
                !contains(out, secret),
                "the redacted report shows a secret in full: {:?}\n{}",
                String::from_utf8_lossy(secret),
                String::from_utf8_lossy(out)
            );
            // JSON escapes some bytes: look for the secret as JSON writes it too.
            if let Ok(s) = std::str::from_utf8(secret) {
                let json = serde_json::to_string(s).expect("a string serializes");
                let inner = &json.as_bytes()[1..json.len() - 1];
                assert!(
                    !contains(out, inner),
                    "the redacted report shows a secret in full (escaped): {s:?}"
                );
            }
        }
    }
}

fn write(writer: &dyn Report, findings: &[tollgate::finding::Finding]) -> Vec<u8> {
    let mut out = termcolor::NoColor::new(Vec::new());
    writer
        .write(findings, &Summary::default(), &mut out)
        .expect("writing to memory");
    out.into_inner()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
