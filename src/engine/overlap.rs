//! One secret, one finding: a generic rule yields to a specific rule on the same text,
//! a decoded match yields to a direct match of the same rule, a direct match of a whole
//! encoded run yields to a specific match decoded from it, and of several matches of the
//! very same text the most confident stays.
//!
//! All matches decoded from one encoded run share the run's span, so "overlapping spans"
//! can hold thousands of matches at once. Matches are therefore grouped by layer (span
//! and decoding chain): inside a group only matches whose inner ranges overlap are
//! compared, in a sweep; between groups of different layers the outcome depends only on
//! which rules and kinds of rule each holds, so each group is summed up once.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::{DropReason, Dropped, Engine, Match};

/// The matches of one layer: one span, one decoding chain.
struct Group {
    members: Range<usize>,
    span_end: usize,
    has_specific: bool,
    generics: Vec<usize>,
    generics_dropped: bool,
    by_rule: HashMap<usize, Vec<usize>>,
    rules_dropped: HashSet<usize>,
}

impl Group {
    fn drop_generics(&mut self, drop: &mut [bool]) {
        if !std::mem::replace(&mut self.generics_dropped, true) {
            for &i in &self.generics {
                drop[i] = true;
            }
        }
    }

    fn drop_rule(&mut self, rule: usize, drop: &mut [bool]) {
        if self.rules_dropped.insert(rule) {
            for &i in self.by_rule.get(&rule).into_iter().flatten() {
                drop[i] = true;
            }
        }
    }
}

impl Engine {
    /// The matches that stay; with `explained`, the others are added to it with the
    /// match that made them give way.
    pub(super) fn drop_overlaps(
        &self,
        mut matches: Vec<Match>,
        explained: Option<&mut Vec<Dropped>>,
    ) -> Vec<Match> {
        // A layer's matches are adjacent, in order of where they sit in its text.
        matches.sort_by(|a, b| {
            (a.span.start, a.span.end, &a.decoded, a.inner.start, a.rule).cmp(&(
                b.span.start,
                b.span.end,
                &b.decoded,
                b.inner.start,
                b.rule,
            ))
        });
        let mut drop = vec![false; matches.len()];
        let mut active: Vec<Group> = Vec::new();
        let mut start = 0;
        while start < matches.len() {
            let first = &matches[start];
            let len = matches[start..]
                .iter()
                .take_while(|m| m.span == first.span && m.decoded == first.decoded)
                .count();
            let mut group = self.group(&matches, start..start + len);
            self.within_group(&matches, &group.members, &mut drop);
            active.retain(|h| h.span_end > first.span.start);
            for earlier in &mut active {
                self.between_groups(&matches, earlier, &mut group, &mut drop);
            }
            active.push(group);
            start += len;
        }
        let Some(explained) = explained else {
            let mut keep = drop.into_iter().map(|d| !d);
            matches.retain(|_| keep.next().unwrap_or(true));
            return matches;
        };
        let mut kept = Vec::with_capacity(matches.len());
        let mut gone = Vec::new();
        for (m, d) in matches.into_iter().zip(drop) {
            if d {
                gone.push(m);
            } else {
                kept.push(m);
            }
        }
        for m in gone {
            // `kept` is in order of span start: look back a few matches from the first
            // that starts after this one ends, so that explaining stays linear.
            let end = kept.partition_point(|k| k.span.start < m.span.end);
            let by = kept[..end]
                .iter()
                .rev()
                .take(16)
                .find(|k| k.span.end > m.span.start)
                .map(|k| k.rule);
            explained.push(Dropped {
                candidate: m,
                reason: DropReason::Overlapped(by),
            });
        }
        kept
    }

    fn group(&self, matches: &[Match], members: Range<usize>) -> Group {
        let mut group = Group {
            span_end: matches[members.start].span.end,
            members: members.clone(),
            has_specific: false,
            generics: Vec::new(),
            generics_dropped: false,
            by_rule: HashMap::new(),
            rules_dropped: HashSet::new(),
        };
        for i in members {
            let rule = matches[i].rule;
            if self.rules[rule].spec.generic {
                group.generics.push(i);
            } else {
                group.has_specific = true;
            }
            group.by_rule.entry(rule).or_default().push(i);
        }
        group
    }

    /// Matches of one layer: only those whose inner ranges overlap can yield.
    fn within_group(&self, matches: &[Match], members: &Range<usize>, drop: &mut [bool]) {
        let mut open: Vec<usize> = Vec::new();
        for i in members.clone() {
            open.retain(|&j| matches[j].inner.end > matches[i].inner.start);
            for &j in &open {
                self.settle(matches, i, j, drop);
            }
            open.push(i);
        }
    }

    /// `later` starts at or after `earlier`, and their spans overlap.
    fn between_groups(
        &self,
        matches: &[Match],
        earlier: &mut Group,
        later: &mut Group,
        drop: &mut [bool],
    ) {
        let (e, l) = (
            &matches[earlier.members.start],
            &matches[later.members.start],
        );
        if e.decoded == l.decoded {
            // One layer, two spans (direct matches): inner ranges decide, pair by pair.
            for i in later.members.clone() {
                for j in earlier.members.clone() {
                    self.settle(matches, i, j, drop);
                }
            }
            return;
        }
        if later.has_specific {
            earlier.drop_generics(drop);
            if e.decoded.is_empty() && e.span == l.span {
                // A direct match of exactly the encoded run a specific match was decoded
                // from (a base64-PEM rule beside the key it decodes to): one secret, and
                // the decoded match says what it is.
                // Only when the decoded match is as confident: a high-confidence direct
                // match must not give way to a medium one that `--min-confidence high`
                // would then drop.
                let decoded_confidence = later
                    .members
                    .clone()
                    .filter(|&i| !self.rules[matches[i].rule].spec.generic)
                    .map(|i| matches[i].confidence)
                    .max();
                for i in earlier.members.clone() {
                    if !later.by_rule.contains_key(&matches[i].rule)
                        && decoded_confidence.is_some_and(|c| c >= matches[i].confidence)
                    {
                        drop[i] = true;
                    }
                }
            }
        }
        if earlier.has_specific {
            later.drop_generics(drop);
        }
        // The same rule in two layers: the direct match stays; of two decoded ones,
        // the later.
        let later_decoded = !l.decoded.is_empty();
        let (small, large) = if later.by_rule.len() <= earlier.by_rule.len() {
            (&later.by_rule, &earlier.by_rule)
        } else {
            (&earlier.by_rule, &later.by_rule)
        };
        let shared: Vec<usize> = small
            .keys()
            .filter(|r| large.contains_key(r))
            .copied()
            .collect();
        for rule in shared {
            if later_decoded {
                later.drop_rule(rule, drop);
            } else {
                earlier.drop_rule(rule, drop);
            }
        }
    }

    fn settle(&self, matches: &[Match], i: usize, j: usize, drop: &mut [bool]) {
        match self.yields(&matches[i], &matches[j]) {
            Some(true) => drop[i] = true,
            Some(false) => drop[j] = true,
            None => {}
        }
    }

    /// For two matches whose reported spans overlap: `Some(true)` when `a` should give
    /// way to `b`, `Some(false)` when `b` should give way to `a`, `None` when both stay.
    fn yields(&self, a: &Match, b: &Match) -> Option<bool> {
        let same_layer = a.decoded == b.decoded;
        if same_layer && !(a.inner.start < b.inner.end && b.inner.start < a.inner.end) {
            return None;
        }
        let (ga, gb) = (
            self.rules[a.rule].spec.generic,
            self.rules[b.rule].spec.generic,
        );
        if ga != gb {
            return Some(ga);
        }
        if a.rule == b.rule && !same_layer {
            // The direct match stays.
            return Some(!a.decoded.is_empty());
        }
        if same_layer && a.inner == b.inner && (a.rule == b.rule || a.span == b.span) {
            return Some(
                a.confidence < b.confidence || (a.confidence == b.confidence && a.rule > b.rule),
            );
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::tests::{engine, token};
    use crate::engine::{EngineOptions, Scratch};
    use base64::Engine as _;

    #[test]
    fn thousands_of_matches_decoded_from_one_run_are_settled_in_one_sweep() {
        let text: String = (0..1500)
            .map(|i| format!("x = {} ", token(&format!("Zq3T9xLm2VbN8cR4kW7yHp1s{i:06}"))))
            .collect();
        let run = base64::engine::general_purpose::STANDARD.encode(text);
        let e = engine(EngineOptions {
            decode_limits: crate::engine::DecodeLimits {
                max_span: 1 << 20,
                ..crate::engine::DecodeLimits::default()
            },
            ..EngineOptions::default()
        });
        let start = std::time::Instant::now();
        let found = e.scan(run.as_bytes(), &mut Scratch::default()).matches;
        assert_eq!(found.len(), 1500);
        assert!(found.iter().all(|m| m.span == (0..run.len())));
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
    }
}
