use base64::Engine as _;

use super::checksum::base62;
use super::rule::{compile_rule_file, RuleOrigin};
use super::*;

const RULES: &str = r#"rules:
- id: t.ghp
  name: classic token
  keywords: [ghp_]
  regex: '\b(?P<secret>ghp_[0-9A-Za-z]{36})\b'
  confidence: medium
  checksum: base62-crc32
- id: t.generic
  name: generic password
  keywords: [password]
  regex: '(?i)[a-z_]*password[a-z_]*\s*[=:]\s*["'']?(?P<secret>[^\s"'']{8,})'
  min_entropy: 2.5
  confidence: low
  generic: true
- id: t.key
  name: pem key
  keywords: ['-----BEGIN']
  regex: '(?s)(?P<secret>-----BEGIN TEST KEY-----.{20,}?-----END TEST KEY-----)'
  window: 8192
  confidence: high
"#;

pub(crate) fn engine(options: EngineOptions) -> Engine {
    let rules = compile_rule_file(RULES, &RuleOrigin::File("t.yaml".into())).unwrap();
    Engine::new(rules, options).unwrap()
}

pub(crate) fn token(body: &str) -> String {
    format!(
        "ghp_{body}{}",
        base62(u64::from(crc32fast::hash(body.as_bytes())), 6)
    )
}

fn scan(data: &str) -> BlobMatches {
    engine(EngineOptions::default()).scan(data.as_bytes(), &mut Scratch::default())
}

#[test]
fn checksum_valid_token_is_found_and_raised() {
    let t = token("Zq3T9xLm2VbN8cR4kW7yHp1sDf6GjA");
    let data = format!("first line\nGITHUB=\"{t}\"\n");
    let found = scan(&data).matches;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].secret, t.as_bytes());
    assert_eq!(found[0].confidence, Confidence::High);
    assert_eq!(&data[found[0].span.clone()], t);
}

#[test]
fn bad_checksum_is_dropped() {
    let mut t = token("Zq3T9xLm2VbN8cR4kW7yHp1sDf6GjA");
    t.replace_range(5..6, if &t[5..6] == "a" { "b" } else { "a" });
    assert!(scan(&t).matches.is_empty());
}

#[test]
fn keyword_case_does_not_matter() {
    assert_eq!(scan("PASSWORD = Tr0ub4dor&3x!").matches.len(), 1);
}

#[test]
fn inline_allow_marker_suppresses_the_line_only() {
    let data = "password = Tr0ub4dor&3x! # tollgate:allow\npassword = pQ8vL2mzR7wq\n";
    let out = scan(data);
    assert_eq!(out.allowed_inline.len(), 1);
    assert_eq!(out.allowed_inline[0].secret, b"Tr0ub4dor&3x!");
    assert_eq!(out.matches.len(), 1);
    assert_eq!(out.matches[0].secret, b"pQ8vL2mzR7wq");
}

#[test]
fn a_marker_far_along_a_minified_line_covers_nothing() {
    let t = token("Zq3T9xLm2VbN8cR4kW7yHp1sDf6GjA");
    let data = format!(
        "{{\"a\":\"{t}\",\"pad\":\"{}\",\"note\":\"tollgate:allow\"}}",
        "x".repeat(5000)
    );
    let out = scan(&data);
    assert!(out.allowed_inline.is_empty());
    assert_eq!(out.matches.len(), 1);
}

#[test]
fn generic_rule_yields_to_specific_rule() {
    let t = token("Zq3T9xLm2VbN8cR4kW7yHp1sDf6GjA");
    let found = scan(&format!("password: {t}")).matches;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, 0);
}

#[test]
fn placeholders_are_not_reported() {
    for data in [
        "password = ${DB_PASSWORD}",
        "password: {{ .Values.password }}",
        "password = changeme",
        "password: <your-password>",
        "password = os.environ.get",
    ] {
        assert!(scan(data).matches.is_empty(), "{data}");
    }
}

#[test]
fn base64_hit_is_reported_at_the_encoded_text() {
    let inner = format!("token {}", token("Zq3T9xLm2VbN8cR4kW7yHp1sDf6GjA"));
    let encoded = base64::engine::general_purpose::STANDARD.encode(&inner);
    let data = format!("data:\n  creds: {encoded}\n");
    let found = scan(&data).matches;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(&data[found[0].span.clone()], encoded);
    assert_eq!(found[0].decoded, vec![Encoding::Base64]);
}

#[test]
fn decode_depth_limits_nesting() {
    let inner = "password = Tr0ub4dor&3x!pQ8";
    let once = base64::engine::general_purpose::STANDARD.encode(inner);
    let twice = base64::engine::general_purpose::STANDARD.encode(&once);
    let thrice = base64::engine::general_purpose::STANDARD.encode(&twice);
    let e = engine(EngineOptions::default());
    let mut s = Scratch::default();
    assert_eq!(e.scan(twice.as_bytes(), &mut s).matches.len(), 1);
    assert!(e.scan(thrice.as_bytes(), &mut s).matches.is_empty());
    let off = engine(EngineOptions {
        decode_depth: 0,
        ..EngineOptions::default()
    });
    assert!(off.scan(once.as_bytes(), &mut s).matches.is_empty());
}

#[test]
fn multiline_secret_far_from_keyword_start_is_found_whole() {
    let body = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n".repeat(40);
    let data = format!("x\n-----BEGIN TEST KEY-----\n{body}-----END TEST KEY-----\n");
    let found = scan(&data).matches;
    assert_eq!(found.len(), 1);
    assert!(found[0].secret.ends_with(b"-----END TEST KEY-----"));
}

#[test]
fn many_hits_in_a_big_blob_each_report_once() {
    let mut data = String::new();
    let mut expected = Vec::new();
    for i in 0..300 {
        let body = format!("Zq3T9xLm2VbN8cR4kW7yHp1sD{i:05}");
        let t = token(&body);
        data.push_str(&format!(
            "let a{i} = \"{t}\";\n{}\n",
            "filler text ".repeat(i % 7)
        ));
        expected.push(t);
    }
    let found = scan(&data).matches;
    let secrets: Vec<String> = found
        .iter()
        .map(|m| String::from_utf8(m.secret.clone()).unwrap())
        .collect();
    assert_eq!(secrets, expected);
}

#[test]
fn invalid_utf8_and_binary_noise_do_not_panic() {
    let mut data: Vec<u8> = (0..=255u8).cycle().take(20_000).collect();
    data.extend_from_slice(b"\xff\xfepassword = \xc3\x28Tr0ub4dor&3x!\n");
    let _ = engine(EngineOptions::default()).scan(&data, &mut Scratch::default());
}

#[test]
fn a_scratch_moved_between_engines_is_reset() {
    let mut scratch = Scratch::default();
    let a = engine(EngineOptions::default());
    let b = engine(EngineOptions {
        decode_depth: 0,
        ..EngineOptions::default()
    });
    let data = format!("x = {}\n", token("Zq3T9xLm2VbN8cR4kW7yHp1sDf6GjA"));
    assert_eq!(a.scan(data.as_bytes(), &mut scratch).matches.len(), 1);
    assert_eq!(b.scan(data.as_bytes(), &mut scratch).matches.len(), 1);
    assert_eq!(a.scan(data.as_bytes(), &mut scratch).matches.len(), 1);
}

#[test]
fn min_confidence_drops_weaker_matches() {
    let e = engine(EngineOptions {
        min_confidence: Confidence::Medium,
        ..EngineOptions::default()
    });
    assert!(e
        .scan(b"password = Tr0ub4dor&3x!", &mut Scratch::default())
        .matches
        .is_empty());
}

#[test]
fn line_anchor_does_not_match_at_a_window_edge_inside_a_line() {
    let yaml = r"rules:
- id: t.anchored
  name: anchored
  keywords: [apikey]
  regex: '(?m)^apikey=(?P<secret>[a-z0-9]{12})$'
  window: 4
  confidence: low
";
    let rules = compile_rule_file(yaml, &RuleOrigin::File("t.yaml".into())).unwrap();
    let e = Engine::new(rules, EngineOptions::default()).unwrap();
    let mut s = Scratch::default();
    let mid_line = format!("{}apikey=k2j4h5g6f7d8\n", "x".repeat(40));
    assert!(e.scan(mid_line.as_bytes(), &mut s).matches.is_empty());
    let own_line = format!("{}\napikey=k2j4h5g6f7d8\n", "x".repeat(40));
    assert_eq!(e.scan(own_line.as_bytes(), &mut s).matches.len(), 1);
}

#[test]
fn a_token_longer_than_the_default_window_is_found_whole() {
    let yaml = r"rules:
- id: t.long
  name: long token
  keywords: [lt_]
  regex: '\b(?P<secret>lt_[A-Za-z0-9]{1000,3000})\b'
  confidence: low
";
    let rules = compile_rule_file(yaml, &RuleOrigin::File("t.yaml".into())).unwrap();
    let e = Engine::new(rules, EngineOptions::default()).unwrap();
    let body: String = (0..2000).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    let data = format!("TOKEN=lt_{body} next");
    let found = e.scan(data.as_bytes(), &mut Scratch::default()).matches;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].secret.len(), 2003);
}

#[test]
fn token_inside_a_longer_word_is_told_apart() {
    for inside in [
        "tokenCount",
        "tokens",
        "Tokenizer",
        "TokenStream",
        "tokenkeys",
    ] {
        assert!(token_inside_word(inside.as_bytes(), 5), "{inside}");
    }
    for kept in [
        "token",
        "token=",
        "token_url",
        "token2",
        "tokenValue",
        "TOKENSTR:",
        "tokenPlaintext",
        "tokenAccess_Key",
    ] {
        assert!(!token_inside_word(kept.as_bytes(), 5), "{kept}");
    }
}

/// `skips_token_in_word` relies on how the built-in rules with the keyword `token` use
/// it: all generic, and `token` in their regexes only as the credential word followed by
/// the shared suffix group (or, in `generic.cli-option`, by digits only).
#[test]
fn token_in_word_skip_matches_generic_rules() {
    const SUFFIX: &str = "token)[0-9]{0,3}(?:(?:[_.-][A-Za-z0-9]+)*|(?:key|value|token|string|str|text|b64|base64|hex|raw|plain|plaintext|access[_-]?key)[0-9]{0,3}(?:[_.-][A-Za-z0-9]+)*)";
    const DIGITS_ONLY: &str = "[_-]?token|token)[0-9]{0,3})";
    const ALTERNATIVE: &str = "(?:[A-Za-z0-9_.-]*[_.-])?token|";
    let rules = rule::builtin_rules().unwrap();
    let owners: Vec<&Rule> = rules
        .iter()
        .filter(|r| {
            r.spec
                .keywords
                .iter()
                .any(|k| k.eq_ignore_ascii_case(TOKEN_KEYWORD))
        })
        .collect();
    assert!(owners.len() >= 10);
    for rule in owners {
        assert!(skips_token_in_word(rule), "{}", rule.spec.id);
        let regex = &rule.spec.regex;
        let rest = regex
            .replace(SUFFIX, "")
            .replace(DIGITS_ONLY, "")
            .replace(ALTERNATIVE, "");
        assert!(
            !rest.to_ascii_lowercase().contains("token"),
            "{}: `token` where the skip was not checked",
            rule.spec.id
        );
        assert!(
            regex.contains(SUFFIX) || regex.contains(DIGITS_ONLY),
            "{}",
            rule.spec.id
        );
        assert!(!regex.contains(ALTERNATIVE) || regex.contains(SUFFIX));
    }
}

/// `needs_assignment` holds only if the `=` after the keyword is not optional: the
/// `(?:kw...)[ \t]*=` part must sit outside every group, and the regex must have no
/// top-level alternation.
#[test]
fn assignment_rules_are_top_level_concatenations() {
    let rules = rule::builtin_rules().unwrap();
    let checked: Vec<&Rule> = rules.iter().filter(|r| needs_assignment(r)).collect();
    assert!(checked.iter().any(|r| r.spec.id == "connstring.ado-net"));
    for rule in checked {
        let regex = rule.spec.regex.as_bytes();
        let keywords = rule.spec.keywords.join("|");
        let fragment = format!("[ \\t]*(?:{keywords})[ \\t]*=");
        let at = rule.spec.regex.find(&fragment).unwrap();
        let (mut depth, mut i, mut in_class) = (0i32, 0, false);
        while i < regex.len() {
            match regex[i] {
                b'\\' => i += 1,
                b'[' if !in_class => in_class = true,
                b']' if in_class => in_class = false,
                b'(' if !in_class => depth += 1,
                b')' if !in_class => depth -= 1,
                b'|' if !in_class => assert!(depth > 0, "{}: top-level `|`", rule.spec.id),
                _ => {}
            }
            i += 1;
            if i == at {
                assert_eq!(depth, 0, "{}: assignment inside a group", rule.spec.id);
            }
        }
        let after = &rule.spec.regex[at + fragment.len()..];
        assert!(after.starts_with("[ \\t]*(?P<secret>"), "{}", rule.spec.id);
    }
}

#[test]
fn equals_after_a_keyword_is_found_past_blanks() {
    assert!(followed_by_equals(b"pwd \t= x", 3));
    assert!(followed_by_equals(b"pwd=", 3));
    assert!(!followed_by_equals(b"pwd: x", 3));
    assert!(!followed_by_equals(b"pwd", 3));
}

/// A group's regex set only decides which members run; what they find must be what each
/// finds when it runs alone.
#[test]
fn grouped_rules_find_what_each_finds_alone() {
    let rules = rule::builtin_rules().unwrap();
    let text = "\
DB_PASSWORD=Xk29vLq8mPz3
export API_TOKEN=\"hG7kq2LmZp94Rt\"
{\"client_secret\": \"Vq8LmZ2kPx7Rn4\", \"tokenCount\": 3}
const password = \"Zk3mQ9vLp2Xr\";
<password>Qm7xZp2kLv9R</password>
client.setPassword(\"Lp9Zk2mQx7Vr\");
mysql --password=Rz8kLm2QpX7v -h db
config.token = 'Tk2Zm9QpLx8R'
fn tokenize(input: &str) -> Vec<Token> { input.split(' ').collect() }
let secret_name = lookup(path);
";
    let raw = |engine: &Engine| {
        let mut out = Vec::new();
        engine.scan_layer(text.as_bytes(), 0, None, &mut Scratch::default(), &mut out);
        let mut found: Vec<(String, Range<usize>)> = out
            .into_iter()
            .map(|m| (engine.rules[m.rule].spec.id.clone(), m.inner))
            .collect();
        found.sort_by(|a, b| (&a.0, a.1.start).cmp(&(&b.0, b.1.start)));
        found
    };
    let all = Engine::new(rules.clone(), EngineOptions::default()).unwrap();
    let generic = all
        .groups
        .iter()
        .find(|g| g.members.len() >= 5)
        .expect("the generic rules form a group");
    let grouped = raw(&all);
    let mut alone = Vec::new();
    for group in &all.groups {
        for &member in &group.members {
            let single = Engine::new(vec![rules[member].clone()], EngineOptions::default());
            alone.extend(raw(&single.unwrap()));
        }
    }
    alone.sort_by(|a, b| (&a.0, a.1.start).cmp(&(&b.0, b.1.start)));
    let members: Vec<&str> = all
        .groups
        .iter()
        .flat_map(|g| g.members.iter().map(|&m| all.rules[m].spec.id.as_str()))
        .collect();
    let grouped: Vec<_> = grouped
        .into_iter()
        .filter(|(id, _)| members.contains(&id.as_str()))
        .collect();
    assert_eq!(grouped, alone);
    let generic_ids: Vec<&str> = generic
        .members
        .iter()
        .map(|&m| all.rules[m].spec.id.as_str())
        .collect();
    let hit_rules: std::collections::BTreeSet<&str> = grouped
        .iter()
        .map(|(id, _)| id.as_str())
        .filter(|id| generic_ids.contains(id))
        .collect();
    assert!(hit_rules.len() >= 5, "{hit_rules:?}");
}

/// `(rule, span)` of every match at `min`, for comparing runs.
fn rules_and_spans(engine: &Engine, data: &[u8]) -> Vec<(usize, Range<usize>, Confidence)> {
    engine
        .scan(data, &mut Scratch::default())
        .matches
        .into_iter()
        .map(|m| (m.rule, m.span, m.confidence))
        .collect()
}

#[test]
fn the_rule_is_chosen_before_min_confidence_filters() {
    let yaml = r#"rules:
- id: t.weak-specific
  name: a specific rule of low confidence
  keywords: [tk-]
  regex: '(?P<secret>tk-[0-9A-Za-z]{10})'
  confidence: low
- id: t.generic-medium
  name: a generic rule of medium confidence
  keywords: [password]
  regex: 'password\s*=\s*(?P<secret>\S{8,})'
  confidence: medium
  generic: true
"#;
    let at = |min| {
        let rules = compile_rule_file(yaml, &RuleOrigin::File("t.yaml".into())).unwrap();
        let e = Engine::new(
            rules,
            EngineOptions {
                min_confidence: min,
                ..EngineOptions::default()
            },
        )
        .unwrap();
        rules_and_spans(&e, b"password = tk-8fQ2mZ7rLw\n")
    };
    let low = at(Confidence::Low);
    assert_eq!(low.len(), 1);
    assert_eq!(low[0].0, 0, "the specific rule wins: {low:?}");
    // Not the generic rule in its place: the text's rule does not depend on the filter.
    assert!(at(Confidence::Medium).is_empty());
}

#[test]
fn every_builtin_example_keeps_its_rules_at_every_min_confidence() {
    let rules = || {
        RuleSelection {
            builtin: true,
            ..RuleSelection::default()
        }
        .load()
        .unwrap()
    };
    let engines: Vec<(Confidence, Engine)> =
        [Confidence::Low, Confidence::Medium, Confidence::High]
            .into_iter()
            .map(|min| {
                let options = EngineOptions {
                    min_confidence: min,
                    ..EngineOptions::default()
                };
                (min, Engine::new(rules(), options).unwrap())
            })
            .collect();
    let examples: Vec<String> = engines[0]
        .1
        .rules()
        .iter()
        .flat_map(|r| r.spec.examples.iter().chain(&r.spec.negative_examples))
        .cloned()
        .collect();
    for example in &examples {
        let all = rules_and_spans(&engines[0].1, example.as_bytes());
        for (min, engine) in &engines[1..] {
            let expected: Vec<_> = all.iter().filter(|m| m.2 >= *min).cloned().collect();
            assert_eq!(
                rules_and_spans(engine, example.as_bytes()),
                expected,
                "{min:?}: {example}"
            );
        }
    }
}

#[test]
fn windows_widen_to_their_line_end_with_one_search_per_line() {
    let data = b"a=1 b=2 c=3\nd=4\n";
    let mut ends = LineEnds::default();
    assert_eq!(ends.widen(data, 0..3), 0..12);
    assert_eq!(ends.widen(data, 4..7), 4..12);
    assert_eq!(ends.widen(data, 12..13), 12..16);
    // Out of order, and past the widening limit.
    assert_eq!(ends.widen(data, 0..1), 0..12);
    let long = vec![b'x'; 3 * MAX_LINE_WIDEN];
    let mut ends = LineEnds::default();
    assert_eq!(ends.widen(&long, 0..10), 0..10 + MAX_LINE_WIDEN);
    assert_eq!(ends.widen(&long, 20..30), 20..30 + MAX_LINE_WIDEN);
    assert_eq!(ends.widen(&long, 2000..2010), 2000..2010 + MAX_LINE_WIDEN);
}
