//! The manifest parser and the Kubernetes checks over arbitrary YAML-ish text. Asserts:
//! - every parsed node's span lies inside the text, on character boundaries, and inside
//!   the span of the collection that holds it;
//! - template masking keeps every byte offset;
//! - the analysis answers once per engine match, and every structural hit and mask lies
//!   inside the input, on character boundaries;
//! - the whole blob stage (engine, manifest stage, snippets) gives findings whose
//!   positions lie inside the input.
//!
//! Run with `-timeout` so that superlinear work on some shape of input shows as a crash.
#![no_main]

use std::ops::Range;

use libfuzzer_sys::fuzz_target;
use tollgate::engine::Scratch;
use tollgate::k8s::checks::CHECKS;
use tollgate::k8s::yaml::{self, Node};
use tollgate::k8s::{self, MatchSpan, Selection};
use tollgate::scan::{scan_blob, ScanConfig};
use tollgate::source::Provenance;
use tollgate_fuzz::{engine, scan_config};

/// Paths that make the manifest stage parse the blob, each taking a different branch:
/// plain manifests, Helm values (config files without `apiVersion`), kubeconfig, AKS
/// cloud config, chart templates.
const PATHS: &[&str] = &[
    "deploy/app.yaml",
    "chart/values.yaml",
    "home/.kube/config",
    "etc/kubernetes/azure.json",
    "chart/templates/deployment.yaml",
    "base/kustomization.yaml",
    "manifest.json",
];

fuzz_target!(|input: &[u8]| {
    let Some((&selector, rest)) = input.split_first() else {
        return;
    };
    let path = PATHS[usize::from(selector) % PATHS.len()];
    let text = String::from_utf8_lossy(rest).into_owned();
    let data = text.as_bytes();

    if let Some(masked) = yaml::mask_templates(&text) {
        assert_eq!(masked.len(), text.len(), "masking moved offsets");
    }
    if let Ok(docs) = yaml::parse(&text) {
        for doc in &docs {
            check_node(&text, &doc.root, 0..text.len());
        }
    }

    let selection = every_check();
    let matches: Vec<MatchSpan> = engine()
        .scan(data, &mut Scratch::default())
        .matches
        .iter()
        .map(|m| MatchSpan {
            span: m.span.clone(),
            generic: engine().rules()[m.rule].spec.generic,
        })
        .collect();
    let low = tollgate::finding::Confidence::Low;
    if let Some(analysis) = k8s::analyze(path, data, &matches, &selection, low) {
        assert_eq!(
            analysis.contexts.len(),
            matches.len(),
            "one context per match"
        );
        assert_eq!(
            analysis.dropped.len(),
            matches.len(),
            "one verdict per match"
        );
        for hit in &analysis.hits {
            check_span(&text, &hit.span, "structural hit");
        }
        for (span, _) in &analysis.masks {
            check_span(&text, span, "mask");
        }
    }

    let config = ScanConfig {
        k8s: selection,
        ..scan_config(true)
    };
    let provenance = Provenance {
        path: path.into(),
        rel_path: path.into(),
        git: None,
    };
    let report = scan_blob(
        engine(),
        data,
        &provenance,
        &config,
        &mut Scratch::default(),
    );
    let lines = text.split('\n').count();
    for f in &report.findings {
        assert!(
            (1..=lines).contains(&f.line) && (f.line, f.column) <= (f.end_line, f.end_column),
            "finding at {}:{}-{}:{} outside a {lines}-line input",
            f.line,
            f.column,
            f.end_line,
            f.end_column
        );
        assert!(f.end_line <= lines, "finding ends past the input: {f:?}");
    }
});

fn every_check() -> Selection {
    let ids: Vec<String> = CHECKS.iter().map(|c| c.id.to_string()).collect();
    Selection::new(&[], &[], &ids)
}

fn check_span(text: &str, span: &Range<usize>, what: &str) {
    assert!(
        span.start <= span.end && span.end <= text.len(),
        "{what} span {span:?} outside the input ({} bytes)",
        text.len()
    );
    assert!(
        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
        "{what} span {span:?} splits a character"
    );
}

fn check_node(text: &str, node: &Node, parent: Range<usize>) {
    let span = node.span();
    check_span(text, &span, "node");
    assert!(
        parent.start <= span.start && span.end <= parent.end,
        "node {span:?} outside its parent {parent:?}: {node:?}"
    );
    match node {
        Node::Map(entries, _) => {
            for (k, v) in entries {
                check_node(text, k, span.clone());
                check_node(text, v, span.clone());
            }
        }
        Node::Seq(items, _) => {
            for item in items {
                check_node(text, item, span.clone());
            }
        }
        Node::Scalar(_) | Node::Alias(_) => {}
    }
}
