//! YAML (and JSON, which YAML 1.2 contains) parsed into a small tree whose every node
//! knows its byte span in the source, so that a finding's offset maps to a document and
//! a field path. Built from saphyr-parser's event stream with an explicit stack: nesting
//! depth costs heap, never native stack, and both depth and node count are capped.

use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Deeper nesting than this is not a manifest; the file is scanned as text.
const MAX_DEPTH: usize = 256;
/// A bound on the work one file can cause (a manifest has hundreds of nodes).
const MAX_NODES: usize = 2_000_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Scalar(Scalar),
    Seq(Vec<Node>, Range<usize>),
    Map(Vec<(Node, Node)>, Range<usize>),
    /// `*anchor`: not expanded, so a merge key never duplicates a finding.
    Alias(Range<usize>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub value: String,
    /// The scalar as written, quotes included (block scalars: their content lines).
    pub span: Range<usize>,
    /// Plain (unquoted, not a block scalar): the only style that can be null, a bool or
    /// a number, and the only one that can hold code-like text by accident.
    pub plain: bool,
}

impl Node {
    pub fn span(&self) -> Range<usize> {
        match self {
            Node::Scalar(s) => s.span.clone(),
            Node::Seq(_, span) | Node::Map(_, span) | Node::Alias(span) => span.clone(),
        }
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// A chain of `get`s.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path).and_then(Node::as_str)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) => Some(&s.value),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// A mapping's entries; empty for anything else.
    pub fn entries(&self) -> &[(Node, Node)] {
        match self {
            Node::Map(entries, _) => entries,
            _ => &[],
        }
    }

    /// A sequence's items; empty for anything else.
    pub fn items(&self) -> &[Node] {
        match self {
            Node::Seq(items, _) => items,
            _ => &[],
        }
    }

    /// A sequence of scalars as strings (`verbs: [get, list]`).
    pub fn strings(&self) -> impl Iterator<Item = &str> {
        self.items().iter().filter_map(Node::as_str)
    }
}

/// One `---`-separated document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub root: Node,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Character index → byte offset. saphyr counts characters; findings count bytes.
struct Offsets(Option<Vec<usize>>);

impl Offsets {
    fn new(text: &str) -> Offsets {
        if text.is_ascii() {
            return Offsets(None);
        }
        let mut map: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        map.push(text.len());
        Offsets(Some(map))
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.0 {
            None => char_index,
            Some(map) => map.get(char_index).copied().unwrap_or(map[map.len() - 1]),
        }
    }
}

/// A container being built: its children so far, where it starts, and whether it is
/// flow style (`[..]`, `{..}`), whose end event spans the closing bracket. A block
/// container's end event sits at the next token, so it ends with its last child.
enum Open {
    Seq(Vec<Node>, usize, bool),
    /// Entries and a key waiting for its value.
    Map(Vec<(Node, Node)>, Option<Node>, usize, bool),
}

/// Parse every document in `text`. An error anywhere fails the whole file: a half-parsed
/// manifest would give wrong field paths.
pub fn parse(text: &str) -> Result<Vec<Document>, ParseError> {
    // The parser is third-party code fed with arbitrary bytes: a panic in it must not
    // take the scan down.
    match std::panic::catch_unwind(|| parse_events(text)) {
        Ok(result) => result,
        Err(_) => Err(ParseError {
            line: 0,
            message: "the YAML parser failed on this input".into(),
        }),
    }
}

fn parse_events(text: &str) -> Result<Vec<Document>, ParseError> {
    let offsets = Offsets::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut nodes = 0usize;
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| ParseError {
            line: e.marker().line(),
            message: e.info().to_string(),
        })?;
        let start = offsets.byte(span.start.index());
        let end = offsets.byte(span.end.index());
        let done = match event {
            Event::Scalar(value, style, _, _) => Some(Node::Scalar(Scalar {
                value: value.into_owned(),
                span: skip_properties(text, start, end)..end,
                plain: style == ScalarStyle::Plain,
            })),
            Event::Alias(_) => Some(Node::Alias(start..end)),
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(ParseError {
                        line: span.start.line(),
                        message: format!("nested deeper than {MAX_DEPTH} levels"),
                    });
                }
                let flow = end > start;
                stack.push(match event {
                    Event::SequenceStart(..) => Open::Seq(Vec::new(), start, flow),
                    _ => Open::Map(Vec::new(), None, start, flow),
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Open::Seq(items, from, flow)) => {
                    let last = items.last().map(Node::span);
                    Some(Node::Seq(items, container_span(from, end, flow, last)))
                }
                Some(Open::Map(entries, _, from, flow)) => {
                    let last = entries.last().map(|(_, v)| v.span());
                    Some(Node::Map(entries, container_span(from, end, flow, last)))
                }
                None => None,
            },
            Event::DocumentEnd => None,
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) | Event::Nothing => {
                None
            }
        };
        let Some(node) = done else {
            continue;
        };
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(ParseError {
                line: 0,
                message: format!("more than {MAX_NODES} nodes"),
            });
        }
        match stack.last_mut() {
            None => docs.push(Document { root: node }),
            Some(Open::Seq(items, ..)) => items.push(node),
            Some(Open::Map(entries, pending, ..)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
    }
    Ok(docs)
}

/// A scalar's event span starts at its anchor (`&pw`) or tag (`!!str`), if any: the
/// value itself starts after them.
fn skip_properties(text: &str, mut start: usize, end: usize) -> usize {
    let bytes = text.as_bytes();
    while start < end && matches!(bytes.get(start), Some(b'&' | b'!')) {
        let token_end = bytes[start..end]
            .iter()
            .position(|b| b.is_ascii_whitespace())
            .map_or(end, |p| start + p);
        let next = bytes[token_end..end]
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .map_or(end, |p| token_end + p);
        if next >= end {
            // A tag or anchor on an empty value: keep the whole span.
            break;
        }
        start = next;
    }
    start
}

fn container_span(from: usize, end: usize, flow: bool, last: Option<Range<usize>>) -> Range<usize> {
    let to = match (flow, last) {
        (true, _) | (false, None) => end,
        (false, Some(last)) => last.end,
    };
    from..to.max(from)
}

/// Helm and other Go templates: every `{{ ... }}` action is replaced by filler of the
/// same length, and a line holding only actions becomes blank, so that most chart
/// templates parse and every byte keeps its offset. `None` when there is no action.
/// Filler is `x`, which the placeholder filter recognises, so a templated value is never
/// taken for a literal.
pub fn mask_templates(text: &str) -> Option<String> {
    if !text.contains("{{") {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut masked = String::with_capacity(line.len());
        let mut rest = line;
        let mut only_actions = true;
        while let Some(open) = rest.find("{{") {
            let before = &rest[..open];
            only_actions &= before.trim().is_empty();
            masked.push_str(before);
            let close = rest[open..].find("}}").map_or(rest.len(), |c| open + c + 2);
            masked.extend(std::iter::repeat_n('x', close - open));
            rest = &rest[close..];
        }
        only_actions &= rest.trim().is_empty();
        masked.push_str(rest);
        if only_actions && line.contains("{{") {
            // Keep the newline; blank everything else, byte for byte.
            out.extend(line.bytes().map(|b| if b == b'\n' { '\n' } else { ' ' }));
        } else {
            out.push_str(&masked);
        }
    }
    debug_assert_eq!(out.len(), text.len());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_byte_offsets_even_after_multibyte_text() {
        let text = "note: héllo wörld\nkey: value\n";
        let docs = parse(text).unwrap();
        let v = docs[0].root.get("key").unwrap().as_scalar().unwrap();
        assert_eq!(&text[v.span.clone()], "value");
    }

    #[test]
    fn multi_document_streams_and_containers_have_spans() {
        let text = "a: 1\nb:\n  c: [x, 'y']\n---\nd: z\n";
        let docs = parse(text).unwrap();
        assert_eq!(docs.len(), 2);
        let b = docs[0].root.get("b").unwrap();
        assert!(text[b.span()].contains("c: [x, 'y']"));
        let y = &docs[0].root.at(&["b", "c"]).unwrap().items()[1];
        assert_eq!(&text[y.span()], "'y'");
        assert_eq!(docs[1].root.str_at(&["d"]), Some("z"));
    }

    #[test]
    fn json_parses_as_yaml() {
        let text = "{\n\t\"kind\": \"Secret\",\n\t\"data\": {\"k\": \"dg==\"}\n}\n";
        let docs = parse(text).unwrap();
        assert_eq!(docs[0].root.str_at(&["kind"]), Some("Secret"));
    }

    #[test]
    fn malformed_and_hostile_input_is_an_error_not_a_panic() {
        assert!(parse("a: [1, 2\nb: }").is_err());
        assert!(parse("a: b: c\n").is_err());
        assert!(parse("key: \"unterminated\n").is_err());
        let deep = "[".repeat(10_000);
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn templates_are_masked_in_place() {
        let text = "{{- if .Values.on }}\nname: {{ .Release.Name }}-api\n{{- end }}\n";
        let masked = mask_templates(text).unwrap();
        assert_eq!(masked.len(), text.len());
        let docs = parse(&masked).unwrap();
        let name = docs[0].root.get("name").unwrap().as_scalar().unwrap();
        assert_eq!(&text[name.span.clone()], "{{ .Release.Name }}-api");
        assert!(mask_templates("plain: yes\n").is_none());
        // Multibyte text inside an action keeps every later offset.
        let text = "{{/* Crée le secret — données */}}\nname: {{ .Release.Name }}\n";
        let masked = mask_templates(text).unwrap();
        assert_eq!(masked.len(), text.len());
        let name = parse(&masked).unwrap()[0].root.get("name").unwrap().span();
        assert_eq!(&text[name], "{{ .Release.Name }}");
    }

    #[test]
    fn anchors_and_tags_are_not_part_of_the_value_span() {
        let text = "a: &pw \"Kc-Adm1n\"\nb: !!str T4g-99\n";
        let docs = parse(text).unwrap();
        let a = docs[0].root.get("a").unwrap().span();
        assert_eq!(&text[a], "\"Kc-Adm1n\"");
        let b = docs[0].root.get("b").unwrap().span();
        assert_eq!(&text[b], "T4g-99");
    }
}
