//! User rule files (`--rules FILE`). Asserts: a file is either a clear error or rules;
//! rules that load can be checked (`tollgate rules check`), compiled into an engine
//! with every decoder on, and run over their own examples and over the file itself, with
//! every match inside the text it was found in.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use tollgate::engine::check::check_rules;
use tollgate::engine::rule::{compile_rule_file, RuleOrigin};
use tollgate::engine::{Engine, Scratch};
use tollgate_fuzz::engine_options;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let origin = RuleOrigin::File(PathBuf::from("rules/fuzz.yaml"));
    let rules = match compile_rule_file(text, &origin) {
        Ok(rules) => rules,
        Err(e) => {
            let message = e.to_string();
            assert!(!message.is_empty());
            return;
        }
    };
    // Cap the work per input: each rule's check compiles its regex and scans examples.
    if rules.len() > 8 {
        return;
    }
    let problems = check_rules(&rules);
    for p in &problems {
        assert!(!p.message.is_empty(), "an empty problem for {}", p.rule_id);
    }
    let Ok(engine) = Engine::new(rules.clone(), engine_options()) else {
        return;
    };
    let mut scratch = Scratch::default();
    let samples = rules
        .iter()
        .flat_map(|r| r.spec.examples.iter().chain(&r.spec.negative_examples))
        .map(String::as_bytes)
        .chain([data]);
    for sample in samples {
        for m in engine.scan(sample, &mut scratch).matches {
            assert!(m.rule < rules.len());
            assert!(
                m.span.end <= sample.len(),
                "match {:?} outside the text",
                m.span
            );
            if m.decoded.is_empty() {
                assert_eq!(&sample[m.span.clone()], &m.secret[..]);
            }
        }
    }
});
