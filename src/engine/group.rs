//! Rules with the same keywords and the same reach get the same windows. The seven
//! generic rules that read `password`, `token`, `secret` ... assigned a value share
//! theirs, and each would search every window those words open, though in most windows
//! none of them matches. A group of such rules gets one regex set: one pass over their
//! windows tells which of them match anywhere in them, and only those run to find and
//! judge their matches. A rule that matches somewhere inside its windows is in the set,
//! so nothing is skipped that would have been found.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use regex_automata::util::syntax;
use regex_automata::{meta, Input, MatchKind, PatternID, PatternSet};

use super::Rule;

pub(super) struct RuleGroup {
    /// Rule indexes; pattern `i` of the set is `members[i]`.
    pub members: Vec<usize>,
    /// Compiled on first use, as rules are; `None` when it does not compile (a user rule
    /// that is too large together with the others), and then every member runs.
    set: OnceLock<Option<meta::Regex>>,
}

impl RuleGroup {
    fn set(&self, rules: &[Rule]) -> Option<&meta::Regex> {
        self.set
            .get_or_init(|| {
                let patterns: Vec<&str> = self
                    .members
                    .iter()
                    .map(|&r| rules[r].spec.regex.as_str())
                    .collect();
                meta::Builder::new()
                    .syntax(syntax::Config::new().unicode(false).utf8(false))
                    .configure(
                        meta::Config::new()
                            .match_kind(MatchKind::All)
                            .which_captures(regex_automata::nfa::thompson::WhichCaptures::None)
                            .utf8_empty(false)
                            .nfa_size_limit(Some(64 << 20))
                            .hybrid_cache_capacity(8 << 20),
                    )
                    .build_many(&patterns)
                    .ok()
            })
            .as_ref()
    }
}

/// Groups of two or more rules whose windows are the same: the same keywords, the same
/// treatment of their hits (`hit_class`) and the same reach. Returns the groups and each
/// rule's group.
pub(super) fn group_rules(
    rules: &[Rule],
    hit_class: impl Fn(usize) -> u8,
) -> (Vec<RuleGroup>, Vec<Option<usize>>) {
    let mut by_key: HashMap<(Vec<String>, u8, usize, bool), Vec<usize>> = HashMap::new();
    for (idx, rule) in rules.iter().enumerate() {
        if rule.spec.keywords.is_empty() {
            continue;
        }
        let mut keywords: Vec<String> = rule
            .spec
            .keywords
            .iter()
            .map(|k| k.to_ascii_lowercase())
            .collect();
        keywords.sort_unstable();
        keywords.dedup();
        by_key
            .entry((keywords, hit_class(idx), rule.window(), rule.to_line_end()))
            .or_default()
            .push(idx);
    }
    let mut groups: Vec<RuleGroup> = by_key
        .into_values()
        .filter(|members| members.len() > 1)
        .map(|members| RuleGroup {
            members,
            set: OnceLock::new(),
        })
        .collect();
    groups.sort_by_key(|g| g.members[0]);
    let mut of_rule = vec![None; rules.len()];
    for (g, group) in groups.iter().enumerate() {
        for &m in &group.members {
            of_rule[m] = Some(g);
        }
    }
    (groups, of_rule)
}

/// Per-thread state for the groups: each set's cache, and what it found in the layer
/// being scanned.
#[derive(Debug, Default)]
pub(super) struct GroupScratch {
    caches: Vec<Option<(meta::Cache, PatternSet)>>,
    /// Whether the group's set has run on this layer's windows.
    done: Vec<bool>,
    union: Vec<Range<usize>>,
}

impl GroupScratch {
    pub(super) fn new(groups: usize) -> GroupScratch {
        GroupScratch {
            caches: (0..groups).map(|_| None).collect(),
            done: vec![false; groups],
            union: Vec::new(),
        }
    }

    /// Forget what the sets found: a new layer has new windows.
    pub(super) fn new_layer(&mut self) {
        self.done.iter_mut().for_each(|d| *d = false);
    }

    /// Whether `rule`, a member of `group`, may match in its windows. The first call for
    /// a group in a layer runs the set over its members' windows (their union, should
    /// they ever differ), so it must come before any member's windows are taken.
    pub(super) fn may_match(
        &mut self,
        group: &RuleGroup,
        g: usize,
        rule: usize,
        rules: &[Rule],
        data: &[u8],
        windows: &[Vec<Range<usize>>],
    ) -> bool {
        let Some(set) = group.set(rules) else {
            return true;
        };
        let (cache, found) = self.caches[g]
            .get_or_insert_with(|| (set.create_cache(), PatternSet::new(set.pattern_len())));
        if !self.done[g] {
            self.done[g] = true;
            found.clear();
            self.union.clear();
            for &m in &group.members {
                self.union.extend(windows[m].iter().cloned());
            }
            super::merge_windows(&mut self.union);
            // Most unions hold no match at all, and a search that may stop at the first
            // one runs faster than one that must collect every pattern.
            for window in &self.union {
                set.which_overlapping_matches_with(
                    cache,
                    &Input::new(data).span(window.clone()),
                    found,
                );
                if found.is_full() {
                    break;
                }
            }
        }
        let index = group.members.iter().position(|&m| m == rule);
        index.is_none_or(|i| found.contains(PatternID::new_unchecked(i)))
    }
}
