//! The engine turns bytes into candidate matches. One search for every rule's keywords
//! (see `keywords`) finds where rules may match; each rule's regex then runs only in
//! windows around its keywords' hits, and rules with the same windows first pass one
//! regex set over them together (see `group`). Candidates pass entropy, placeholder, allow and
//! checksum filters; decoders rescan base64 and percent-encoded text. The compiled
//! `Engine` is shared read-only between threads; each worker owns a `Scratch`.

pub mod check;
pub mod checksum;
pub mod decode;
pub mod filters;
mod group;
pub mod keywords;
pub mod marker;
mod overlap;
pub mod rule;

use std::ops::Range;

use regex_automata::util::captures::Captures;
use regex_automata::{meta, Input};

use crate::finding::Confidence;
use decode::{DecodeLimits, DecodedSpan, Encoding};
pub use filters::KeyHints;
pub use marker::{AllowMarkers, INLINE_ALLOW_MARKER, MARKER_REACH};
pub use rule::{Rule, RuleError, RuleSelection};

/// A window is widened to its line end only this far; minified files have huge lines.
const MAX_LINE_WIDEN: usize = 1024;

#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    /// How many times decoded text is decoded again (0 turns decoding off).
    pub decode_depth: usize,
    pub decode_limits: DecodeLimits,
    /// Candidates below this confidence are dropped.
    pub min_confidence: Confidence,
    /// Keep every candidate a filter dropped, with the reason (`--explain`). Off, a scan
    /// does no work for it.
    pub explain: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            decode_depth: 2,
            decode_limits: DecodeLimits::default(),
            min_confidence: Confidence::Low,
            explain: false,
        }
    }
}

/// A candidate that passed every filter. `span` is where it is reported in the scanned
/// blob: the secret itself, or the encoded text it was decoded from.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub rule: usize,
    pub span: Range<usize>,
    /// Where the secret sits in the text it was found in: equal to `span` for a direct
    /// hit, an offset into the decoded text for a decoded one.
    pub inner: Range<usize>,
    pub secret: Vec<u8>,
    pub confidence: Confidence,
    pub entropy: f64,
    pub decoded: Vec<Encoding>,
}

/// What one blob produced.
#[derive(Debug, Default)]
pub struct BlobMatches {
    pub matches: Vec<Match>,
    /// Matches an inline `tollgate:allow` marker covers: not reported, but the hook
    /// audits them (or, with `tollgate.inlineAllow=false`, blocks on them).
    pub allowed_inline: Vec<Match>,
    /// The blob's markers, for the later stages' findings.
    pub markers: AllowMarkers,
    /// With `EngineOptions::explain`: candidates a rule's regex matched that a filter
    /// dropped, and why.
    pub dropped: Vec<Dropped>,
}

/// A candidate that was not reported (see `EngineOptions::explain`).
#[derive(Debug, Clone, PartialEq)]
pub struct Dropped {
    pub candidate: Match,
    pub reason: DropReason,
}

/// Why the engine dropped a candidate.
#[derive(Debug, Clone, PartialEq)]
pub enum DropReason {
    /// A placeholder, template, vendor example or repeated character.
    Placeholder,
    /// The rule's `allow` regex at this index matched.
    Allow(usize),
    Entropy {
        value: f64,
        min: f64,
    },
    /// A generic-value filter, by name (see `filters::generic_noise`).
    GenericNoise(&'static str),
    Checksum,
    /// Another rule's match (by index) of the same text stayed.
    Overlapped(Option<usize>),
    BelowConfidence(Confidence),
    SealedCiphertext,
}

impl DropReason {
    /// The reason in words, naming rules and patterns from `rules`.
    pub fn describe(&self, rule: &Rule, rules: &[Rule]) -> String {
        match self {
            DropReason::Placeholder => "placeholder or template".into(),
            DropReason::Allow(i) => format!(
                "allow regex `{}`",
                rule.spec.allow.get(*i).map_or("?", String::as_str)
            ),
            DropReason::Entropy { value, min } => {
                format!("min_entropy: {value:.2} < {min:.2}")
            }
            DropReason::GenericNoise(name) => format!("generic filter: {name}"),
            DropReason::Checksum => format!(
                "checksum failed ({})",
                rule.spec.checksum.map_or("?".into(), |c| format!("{c:?}"))
            ),
            DropReason::Overlapped(by) => match by.and_then(|i| rules.get(i)) {
                Some(other) => format!("overlapped by rule {}", other.spec.id),
                None => "overlapped by another match".into(),
            },
            DropReason::BelowConfidence(c) => format!("below min-confidence ({})", c.as_str()),
            DropReason::SealedCiphertext => "SealedSecret ciphertext".into(),
        }
    }
}

/// Per-thread working memory, reused across blobs: search windows per rule and each
/// rule's regex cache, so workers never contend for a shared cache pool.
#[derive(Debug, Default)]
pub struct Scratch {
    /// The engine these caches belong to; a scratch handed to another engine is reset.
    engine_id: u64,
    windows: Vec<Vec<Range<usize>>>,
    touched: Vec<usize>,
    caches: Vec<Option<RuleCache>>,
    groups: group::GroupScratch,
    /// With `EngineOptions::explain`, the candidates `judge` dropped.
    dropped: Vec<Dropped>,
}

/// A rule's regex cache and captures, and its gate's cache.
#[derive(Debug)]
struct RuleCache {
    cache: meta::Cache,
    caps: Captures,
    gate: Option<meta::Cache>,
}

/// One `Scratch` per thread, for rayon workers: `map_init` would make a new one per
/// split job and throw away the warmed regex caches.
#[derive(Default)]
pub struct ScratchPool(thread_local::ThreadLocal<std::cell::RefCell<Scratch>>);

impl ScratchPool {
    pub fn with<R>(&self, f: impl FnOnce(&mut Scratch) -> R) -> R {
        f(&mut self.0.get_or_default().borrow_mut())
    }
}

pub struct Engine {
    id: u64,
    rules: Vec<Rule>,
    keywords: keywords::KeywordMatcher,
    /// For each keyword pattern, the rules that own it.
    keyword_rules: Vec<Vec<usize>>,
    /// Rules without keywords: they run on every blob.
    unkeyed: Vec<usize>,
    /// The keyword pattern `token`, if any rule has it, and the rules that still need its
    /// hits inside a longer word (see `token_inside_word`).
    token_keyword: Option<usize>,
    token_in_word_rules: Vec<usize>,
    /// Per rule: only keyword hits followed by `=` can be part of a match (see
    /// `needs_assignment`).
    needs_assignment: Vec<bool>,
    /// Rules with the same windows, run behind one regex set (see `group`).
    groups: Vec<group::RuleGroup>,
    rule_group: Vec<Option<usize>>,
    options: EngineOptions,
}

impl Engine {
    pub fn new(rules: Vec<Rule>, options: EngineOptions) -> Result<Engine, RuleError> {
        let mut patterns: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut unkeyed = Vec::new();
        for (idx, rule) in rules.iter().enumerate() {
            if rule.spec.keywords.is_empty() {
                unkeyed.push(idx);
            }
            for kw in &rule.spec.keywords {
                let kw = kw.to_ascii_lowercase();
                match patterns.iter().position(|p| *p == kw) {
                    Some(p) if keyword_rules[p].contains(&idx) => {}
                    Some(p) => keyword_rules[p].push(idx),
                    None => {
                        patterns.push(kw);
                        keyword_rules.push(vec![idx]);
                    }
                }
            }
        }
        let keywords = keywords::KeywordMatcher::new(&patterns).map_err(|e| RuleError::Syntax {
            origin: rule::RuleOrigin::Builtin("keywords"),
            message: e.to_string(),
        })?;
        let token_keyword = patterns.iter().position(|p| p == TOKEN_KEYWORD);
        let token_in_word_rules = token_keyword.map_or_else(Vec::new, |p| {
            keyword_rules[p]
                .iter()
                .copied()
                .filter(|&idx| !skips_token_in_word(&rules[idx]))
                .collect()
        });
        let needs_assignment: Vec<bool> = rules.iter().map(needs_assignment).collect();
        let (groups, rule_group) = group::group_rules(&rules, |idx| {
            u8::from(needs_assignment[idx]) | (u8::from(skips_token_in_word(&rules[idx])) << 1)
        });
        static NEXT_ENGINE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Ok(Engine {
            id: NEXT_ENGINE_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            keywords,
            keyword_rules,
            unkeyed,
            token_keyword,
            token_in_word_rules,
            needs_assignment,
            groups,
            rule_group,
            rules,
            options,
        })
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Scan one blob. The rule of every candidate is settled first (`drop_overlaps`),
    /// and only then are the less confident ones dropped, so that a finding's rule (and
    /// its fingerprint) is the same whatever `min_confidence` is.
    pub fn scan(&self, data: &[u8], scratch: &mut Scratch) -> BlobMatches {
        let mut raw = Vec::new();
        scratch.dropped.clear();
        self.scan_layer(data, 0, None, scratch, &mut raw);
        let mut dropped = std::mem::take(&mut scratch.dropped);
        let raw = self.drop_overlaps(raw, self.options.explain.then_some(&mut dropped));
        let markers = AllowMarkers::new(data);
        let starts: Vec<usize> = raw.iter().map(|m| m.span.start).collect();
        // Looked up once: a per-match search of the blob costs matches × size.
        let sealed = !raw.is_empty() && memchr::memmem::find(data, b"SealedSecret").is_some();
        let mut out = BlobMatches::default();
        let explain = self.options.explain;
        for m in raw {
            if m.confidence < self.options.min_confidence {
                if explain {
                    dropped.push(Dropped {
                        candidate: m,
                        reason: DropReason::BelowConfidence(self.options.min_confidence),
                    });
                }
                continue;
            }
            if markers.covers(data, m.span.clone(), &starts) {
                out.allowed_inline.push(m);
            } else if !(self.rules[m.rule].spec.generic
                && sealed
                && is_sealed_ciphertext(&m.secret))
            {
                out.matches.push(m);
            } else if explain {
                dropped.push(Dropped {
                    candidate: m,
                    reason: DropReason::SealedCiphertext,
                });
            }
        }
        out.matches.sort_by_key(|m| (m.span.start, m.rule));
        out.markers = markers;
        dropped.sort_by_key(|d| (d.candidate.span.start, d.candidate.rule));
        out.dropped = dropped;
        out
    }

    /// `origin`: where decoded text came from in the top-level blob, and how.
    fn scan_layer(
        &self,
        data: &[u8],
        depth: usize,
        origin: Option<(Range<usize>, &[Encoding])>,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        self.collect_windows(data, scratch);
        let touched = std::mem::take(&mut scratch.touched);
        scratch.groups.new_layer();
        for &rule in &touched {
            // Before any window is taken: a group's first member runs the group's set
            // over all its members' windows.
            let skip = self.rule_group[rule].is_some_and(|g| {
                !scratch.groups.may_match(
                    &self.groups[g],
                    g,
                    rule,
                    &self.rules,
                    data,
                    &scratch.windows,
                )
            });
            let mut windows = std::mem::take(&mut scratch.windows[rule]);
            merge_windows(&mut windows);
            for window in windows.iter().filter(|_| !skip) {
                self.run_rule(rule, data, window.clone(), &origin, scratch, out);
            }
            windows.clear();
            scratch.windows[rule] = windows;
        }
        scratch.touched = touched;
        scratch.touched.clear();

        if depth >= self.options.decode_depth {
            return;
        }
        let mut spans: Vec<DecodedSpan> = Vec::new();
        decode::decode_base64_spans(data, self.options.decode_limits, &mut spans);
        decode::decode_percent_spans(data, self.options.decode_limits, &mut spans);
        for span in spans {
            let (reported, mut chain) = match &origin {
                Some((range, chain)) => (range.clone(), chain.to_vec()),
                None => (span.start..span.end, Vec::new()),
            };
            chain.push(span.encoding);
            self.scan_layer(
                &span.bytes,
                depth + 1,
                Some((reported, &chain)),
                scratch,
                out,
            );
        }
    }

    /// For every rule with a keyword hit, the byte windows its regex must search.
    fn collect_windows(&self, data: &[u8], scratch: &mut Scratch) {
        if scratch.engine_id != self.id {
            *scratch = Scratch {
                engine_id: self.id,
                windows: vec![Vec::new(); self.rules.len()],
                touched: Vec::new(),
                caches: (0..self.rules.len()).map(|_| None).collect(),
                groups: group::GroupScratch::new(self.groups.len()),
                dropped: Vec::new(),
            };
        }
        for &idx in &self.unkeyed {
            scratch.windows[idx].push(0..data.len());
            scratch.touched.push(idx);
        }
        self.keywords.for_each_hit(data, |hit| {
            let rules =
                if Some(hit.keyword) == self.token_keyword && token_inside_word(data, hit.end) {
                    &self.token_in_word_rules
                } else {
                    &self.keyword_rules[hit.keyword]
                };
            for &idx in rules {
                if self.needs_assignment[idx] && !followed_by_equals(data, hit.end) {
                    continue;
                }
                let w = self.rules[idx].window();
                let end = (hit.end + w).min(data.len());
                let windows = &mut scratch.windows[idx];
                if windows.is_empty() {
                    scratch.touched.push(idx);
                }
                let floor = windows.last().map_or(0, |last| last.end);
                let start = widen_over_indentation(data, hit.start.saturating_sub(w), floor);
                match windows.last_mut() {
                    Some(last) if last.end >= start => last.end = last.end.max(end),
                    _ => windows.push(start..end),
                }
            }
        });
        for &idx in &scratch.touched {
            if self.rules[idx].to_line_end() {
                let mut line_ends = LineEnds::default();
                for window in scratch.windows[idx].iter_mut() {
                    *window = line_ends.widen(data, window.clone());
                }
            }
        }
    }

    fn run_rule(
        &self,
        rule_idx: usize,
        data: &[u8],
        window: Range<usize>,
        origin: &Option<(Range<usize>, &[Encoding])>,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        let rule = &self.rules[rule_idx];
        // A regex that does not compile was reported by `rules check`; it finds nothing.
        let Ok(compiled) = rule.compiled() else {
            return;
        };
        let RuleCache { cache, caps, gate } =
            scratch.caches[rule_idx].get_or_insert_with(|| RuleCache {
                cache: compiled.regex.create_cache(),
                caps: compiled.regex.create_captures(),
                gate: compiled.gate.as_ref().map(|g| g.create_cache()),
            });
        if let (Some(regex), Some(gate_cache)) = (&compiled.gate, gate) {
            let input = Input::new(data).span(window.clone()).earliest(true);
            if regex.search_with(gate_cache, &input).is_none() {
                return;
            }
        }
        // The window is a span of the whole blob, not a slice of it, so that `^`, `$` and
        // `\b` at its edges see the real neighbouring bytes.
        let mut input = Input::new(data).span(window.clone());
        loop {
            compiled.regex.search_captures_with(cache, &input, caps);
            let Some(whole) = caps.get_match() else {
                break;
            };
            if let Some(secret) = caps.get_group(compiled.secret_group) {
                let bytes = &data[secret.range()];
                let quoted = secret.start > 0
                    && matches!(data[secret.start - 1], b'"' | b'\'' | b'`')
                    && data.get(secret.end) == Some(&data[secret.start - 1]);
                let key = compiled
                    .key_group
                    .and_then(|g| caps.get_group(g))
                    .map(|k| &data[k.range()]);
                let judged = self.judge(rule, bytes, quoted, key);
                if judged.is_ok() || self.options.explain {
                    let (span, decoded) = match origin {
                        Some((range, chain)) => (range.clone(), chain.to_vec()),
                        None => (secret.range(), Vec::new()),
                    };
                    let (confidence, entropy) = match &judged {
                        Ok(found) => *found,
                        Err(_) => (rule.spec.confidence, filters::shannon_entropy(bytes)),
                    };
                    let candidate = Match {
                        rule: rule_idx,
                        span,
                        inner: secret.range(),
                        secret: bytes.to_vec(),
                        confidence,
                        entropy,
                        decoded,
                    };
                    match judged {
                        Ok(_) => out.push(candidate),
                        Err(reason) => scratch.dropped.push(Dropped { candidate, reason }),
                    }
                }
            }
            let next = if whole.is_empty() {
                whole.end() + 1
            } else {
                whole.end()
            };
            if next > window.end {
                break;
            }
            input.set_start(next);
        }
    }

    /// Every filter a candidate must pass; `Err` drops it, and says why. `key` is the
    /// rule's `key` group, when it has one: generic filters judge the value by its name.
    fn judge(
        &self,
        rule: &Rule,
        secret: &[u8],
        quoted: bool,
        key: Option<&[u8]>,
    ) -> Result<(Confidence, f64), DropReason> {
        if secret.is_empty() || filters::is_placeholder(secret) {
            return Err(DropReason::Placeholder);
        }
        if let Some(i) = rule.allow.iter().position(|a| a.is_match(secret)) {
            return Err(DropReason::Allow(i));
        }
        let hints = key.filter(|_| rule.spec.generic).map(filters::KeyHints::of);
        let entropy = filters::shannon_entropy(secret);
        if let Some(min) = rule.spec.min_entropy {
            // A password a person chose has less entropy than a generated key
            // (`Passw0rd!` is 2.95 bits a byte); it is reported, at the rule's (low)
            // confidence, when the key says it is a password and it is made like one,
            // of three kinds of character or more (`busybox@`, an anonymous FTP
            // password, has two).
            let weak_password =
                hints.is_some_and(|h| h.password) && filters::character_classes(secret) >= 3;
            let min = if weak_password {
                min.min(WEAK_PASSWORD_ENTROPY)
            } else {
                min
            };
            if entropy < min {
                return Err(DropReason::Entropy {
                    value: entropy,
                    min,
                });
            }
        }
        if rule.spec.generic {
            if let Some(name) = filters::generic_noise(secret, quoted, hints) {
                return Err(DropReason::GenericNoise(name));
            }
        }
        let mut confidence = rule.spec.confidence;
        if let Some(checksum) = rule.spec.checksum {
            if !checksum.verify(secret) {
                return Err(DropReason::Checksum);
            }
            confidence = confidence.raised();
        }
        Ok((confidence, entropy))
    }
}

/// The entropy floor of generic rules for a value under a password key.
const WEAK_PASSWORD_ENTROPY: f64 = 2.5;

/// The most frequent keyword in source code, mostly inside words that name no credential:
/// `tokens`, `tokenize`, `TokenStream`, `tokenCount`.
const TOKEN_KEYWORD: &str = "token";

/// What may follow `token` directly, as a letter, in the `key` group of the built-in
/// generic rules: one of these words, then no further letter (`tokenValue`, `token_key`).
const TOKEN_SUFFIX_WORDS: &[&[u8]] = &[
    b"key",
    b"value",
    b"token",
    b"string",
    b"str",
    b"text",
    b"b64",
    b"base64",
    b"hex",
    b"raw",
    b"plain",
    b"plaintext",
    b"accesskey",
    b"access_key",
    b"access-key",
];

/// Whether the `token` ending at `end` runs on into a longer word no credential name
/// continues with: `tokenCount`, `tokenizer`, `TokenStream` (`str` then a letter).
fn token_inside_word(data: &[u8], end: usize) -> bool {
    let rest = &data[end..];
    rest.first().is_some_and(u8::is_ascii_alphabetic)
        && !TOKEN_SUFFIX_WORDS.iter().any(|w| {
            // Byte by byte: most words differ at the first letter, and the standard
            // library's chunked slice comparison costs more than that.
            rest.len() >= w.len()
                && rest
                    .iter()
                    .zip(*w)
                    .all(|(r, c)| r.to_ascii_lowercase() == *c)
                && !rest.get(w.len()).is_some_and(u8::is_ascii_alphabetic)
        })
}

/// Whether a rule can do without `token` hits inside a longer word. True for the built-in
/// generic rules, whose `key` group (see patterns/generic.yaml) has `token` either as its
/// credential word, then `[0-9]{0,3}` and `_`/`.`/`-` parts or one of `TOKEN_SUFFIX_WORDS`,
/// and then text that starts with no letter (`[ \t:="'>(,]`, a line end); or inside a
/// part before or after another credential word (`tokenizerSecret`, `secret_tokens`),
/// which is a keyword of the same rule, so the match still has a hit of its own: a rule
/// that has a match here also has a keyword hit there, and its window covers the match.
/// `tests::token_in_word_skip_matches_generic_rules` checks the regexes still read so.
fn skips_token_in_word(rule: &Rule) -> bool {
    rule.spec.generic && matches!(rule.origin, rule::RuleOrigin::Builtin(_))
}

/// Whether every match of a rule has one of its keywords followed by `[ \t]*=` and then
/// the secret: its regex reads `[ \t]*(?:kw1|kw2|...)[ \t]*=[ \t]*(?P<secret>` with its
/// own keywords, in order, and has that one `secret` group at the top level (checked by
/// `tests::assignment_rules_are_top_level_concatenations`). Hits not followed by `=`
/// (`connstring.ado-net`: `password` in code, prose, `password_hash`) can then only lie
/// inside a match's earlier text, and the match still has the hit before its `=`, whose
/// window covers it; they only widen windows, several KB for that rule.
fn needs_assignment(rule: &Rule) -> bool {
    let keywords = rule.spec.keywords.join("|");
    !rule.spec.keywords.is_empty()
        && matches!(rule.origin, rule::RuleOrigin::Builtin(_))
        && rule
            .spec
            .regex
            .contains(&format!("[ \\t]*(?:{keywords})[ \\t]*=[ \\t]*(?P<secret>"))
}

/// Whether `=` follows `at`, after spaces and tabs.
fn followed_by_equals(data: &[u8], at: usize) -> bool {
    data[at..]
        .iter()
        .find(|&&b| b != b' ' && b != b'\t')
        .is_some_and(|&b| b == b'=')
}

/// Extends windows, in order of their ends, to the end of their last line, within
/// `MAX_LINE_WIDEN` bytes: a regex anchored at `$` must see the line end. The start needs
/// no widening, since `^` sees the byte before the window. What one search found is
/// kept for the next windows, so a long line with many windows is searched once.
#[derive(Default)]
struct LineEnds {
    /// No newline lies in `from..searched`; `newline` is the first one at `searched`.
    from: usize,
    searched: usize,
    newline: Option<usize>,
}

impl LineEnds {
    fn widen(&mut self, data: &[u8], window: Range<usize>) -> Range<usize> {
        let ceil = (window.end + MAX_LINE_WIDEN).min(data.len());
        let known = window.end >= self.from && window.end <= self.searched;
        if !known || (self.newline.is_none() && self.searched < ceil) {
            let from = if known { self.searched } else { window.end };
            self.from = if known { self.from } else { window.end };
            match memchr::memchr(b'\n', &data[from..ceil]) {
                Some(p) => {
                    self.searched = from + p;
                    self.newline = Some(from + p);
                }
                None => {
                    self.searched = ceil;
                    self.newline = None;
                }
            }
        }
        // The newline itself is included: a pattern may end in `[^...]` rather than `$`.
        let end = match self.newline {
            Some(p) if p < ceil => p + 1,
            _ => ceil,
        };
        window.start..end
    }
}

/// Move a window's start back over the spaces, tabs and list dashes before it, down to
/// `floor` (the end of the rule's previous window, so that each byte is looked at once):
/// a rule anchored at `^[ \t]*` must see the start of a line indented further than its
/// window reaches.
fn widen_over_indentation(data: &[u8], start: usize, floor: usize) -> usize {
    let floor = floor.min(start);
    let blank = data[floor..start]
        .iter()
        .rev()
        .take_while(|&&b| matches!(b, b' ' | b'\t' | b'-'))
        .count();
    start - blank
}

fn merge_windows(windows: &mut Vec<Range<usize>>) {
    windows.sort_by_key(|w| w.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(windows.len());
    for w in windows.drain(..) {
        match merged.last_mut() {
            Some(last) if last.end >= w.start => last.end = last.end.max(w.end),
            _ => merged.push(w),
        }
    }
    *windows = merged;
}

/// Whether the CPU has AVX2 (the standard library caches the answer).
pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    return false;
}

/// SealedSecret `encryptedData` values (in a blob that names `SealedSecret`) are
/// ciphertext only the cluster can open.
fn is_sealed_ciphertext(secret: &[u8]) -> bool {
    secret.len() >= 200 && secret.starts_with(b"Ag")
}

#[cfg(test)]
pub(crate) mod tests;
