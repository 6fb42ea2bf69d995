//! `tollgate rules check`: every rule's examples must produce a finding of that rule and
//! none of its negative examples may. Each rule runs alone, through the same filters and
//! decoders as a scan, so what the check accepts is what a scan reports.

use super::{Engine, EngineOptions, Rule, Scratch};

/// What is wrong with one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub rule_id: String,
    pub origin: String,
    pub message: String,
}

/// The number of examples a rule must carry, each way.
pub const MIN_EXAMPLES: usize = 2;

/// Check every rule; returns the problems found (empty when all pass).
pub fn check_rules(rules: &[Rule]) -> Vec<RuleProblem> {
    let mut problems = Vec::new();
    for rule in rules {
        let mut scratch = Scratch::default();
        let problem = |message: String| RuleProblem {
            rule_id: rule.id().to_string(),
            origin: rule.origin.to_string(),
            message,
        };
        if rule.spec.examples.len() < MIN_EXAMPLES {
            problems.push(problem(format!(
                "has {} examples; at least {MIN_EXAMPLES} are required",
                rule.spec.examples.len()
            )));
        }
        if rule.spec.negative_examples.len() < MIN_EXAMPLES {
            problems.push(problem(format!(
                "has {} negative examples; at least {MIN_EXAMPLES} are required",
                rule.spec.negative_examples.len()
            )));
        }
        if let Err(e) = rule.compiled() {
            problems.push(problem(format!("regex does not compile: {e}")));
            continue;
        }
        let options = EngineOptions {
            explain: true,
            ..EngineOptions::default()
        };
        let engine = match Engine::new(vec![rule.clone()], options) {
            Ok(engine) => engine,
            Err(e) => {
                problems.push(problem(e.to_string()));
                continue;
            }
        };
        for (i, example) in rule.spec.examples.iter().enumerate() {
            let scanned = engine.scan(example.as_bytes(), &mut scratch);
            if scanned.matches.is_empty() {
                // Say which filter dropped it, so that a filter that drops real secrets
                // shows up as such.
                let why: Vec<String> = scanned
                    .dropped
                    .iter()
                    .map(|d| d.reason.describe(rule, engine.rules()))
                    .collect();
                let why = if why.is_empty() {
                    String::new()
                } else {
                    format!(" (dropped: {})", why.join("; "))
                };
                problems.push(problem(format!(
                    "example {} does not match{why}: {}",
                    i + 1,
                    shorten(example)
                )));
            }
        }
        for (i, example) in rule.spec.negative_examples.iter().enumerate() {
            let found = engine.scan(example.as_bytes(), &mut scratch).matches;
            if let Some(m) = found.first() {
                problems.push(problem(format!(
                    "negative example {} matches (secret starts `{}`): {}",
                    i + 1,
                    shorten(&String::from_utf8_lossy(&m.secret)),
                    shorten(example)
                )));
            }
        }
    }
    problems
}

fn shorten(text: &str) -> String {
    let one_line: String = text.replace('\n', "\\n");
    if one_line.chars().count() > 100 {
        let mut s: String = one_line.chars().take(100).collect();
        s.push('…');
        s
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rule::{parse_rule_file, RuleOrigin};

    fn rules(yaml: &str) -> Vec<Rule> {
        let origin = RuleOrigin::File("t.yaml".into());
        parse_rule_file(yaml, &origin)
            .unwrap()
            .into_iter()
            .map(|s| Rule::compile(s, origin.clone()).unwrap())
            .collect()
    }

    #[test]
    fn failing_examples_are_reported() {
        let r = rules(
            r"rules:
- id: t.token
  name: test token
  keywords: [tkn_]
  regex: '\b(?P<secret>tkn_[a-z0-9]{12})\b'
  confidence: high
  examples: ['a = tkn_a1b2c3d4e5f6', 'tkn_short']
  negative_examples: ['tkn_ is a prefix', 'b = tkn_z9y8x7w6v5u4']
",
        );
        let problems = check_rules(&r);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].message.starts_with("example 2 does not match"));
        assert!(problems[1]
            .message
            .starts_with("negative example 2 matches"));
    }

    #[test]
    fn a_filtered_example_names_the_filter() {
        let r = rules(
            r"rules:
- id: t.token
  name: test token
  keywords: [tkn_]
  regex: '\b(?P<secret>tkn_[a-z0-9]{12})\b'
  min_entropy: 3.0
  confidence: high
  examples: ['a = tkn_a1b2c3d4e5f6', 'b = tkn_aaaaaaaaaaab']
  negative_examples: ['tkn_ is a prefix', 'tkn_ again']
",
        );
        let problems = check_rules(&r);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].message.contains("(dropped: min_entropy:"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn too_few_examples_are_reported() {
        let r = rules(
            r"rules:
- id: t.token
  name: test token
  keywords: [tkn_]
  regex: '\b(?P<secret>tkn_[a-z0-9]{12})\b'
  confidence: high
  examples: ['a = tkn_a1b2c3d4e5f6']
",
        );
        let problems = check_rules(&r);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn the_builtin_pack_passes_its_own_examples() {
        let rules = crate::engine::rule::builtin_rules().unwrap();
        let problems = check_rules(&rules);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
