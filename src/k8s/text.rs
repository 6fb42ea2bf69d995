//! Context for manifests that do not parse (a Helm template the masking could not save,
//! a half-edited file): the object's kind, name and namespace from the lines of its
//! document, and the env var when the secret is an env entry's `value:`.

use crate::finding::K8sContext;

/// The `---`-separated documents of a text, as byte ranges.
fn documents(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let end = pos + line.len();
        if line.trim_end().starts_with("---") {
            docs.push(start..pos);
            start = end;
        }
        pos = end;
    }
    docs.push(start..text.len());
    docs
}

/// A top-level `key: value` (no indentation), unquoted.
fn top_level<'a>(doc: &'a str, key: &str) -> Option<&'a str> {
    doc.lines()
        .find_map(|line| scalar_after(line.strip_prefix(key)?.strip_prefix(':')?))
}

fn scalar_after(rest: &str) -> Option<&str> {
    let value = rest
        .split(" #")
        .next()?
        .trim()
        .trim_matches(|c| c == '"' || c == '\'');
    (!value.is_empty() && !value.contains("{{")).then_some(value)
}

/// `name:` / `namespace:` directly under the top-level `metadata:` block.
fn metadata<'a>(doc: &'a str, key: &str) -> Option<&'a str> {
    let mut lines = doc.lines().skip_while(|l| !l.starts_with("metadata:"));
    lines.next()?;
    let mut indent = None;
    for line in lines {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let this = line.len() - line.trim_start().len();
        if this == 0 {
            break;
        }
        if *indent.get_or_insert(this) != this {
            continue;
        }
        if let Some(rest) = line
            .trim_start()
            .strip_prefix(key)
            .and_then(|r| r.strip_prefix(':'))
        {
            return scalar_after(rest);
        }
    }
    None
}

/// The context each document's lines give, computed once per file; `at` adds the env
/// var of the line at an offset.
pub struct Contexts<'a> {
    text: &'a str,
    docs: Vec<(std::ops::Range<usize>, Option<K8sContext>)>,
    /// Where each line starts.
    line_starts: Vec<usize>,
}

impl<'a> Contexts<'a> {
    pub fn new(text: &'a str) -> Contexts<'a> {
        let docs = documents(text)
            .into_iter()
            .map(|range| {
                let doc = &text[range.clone()];
                let ctx = top_level(doc, "kind").map(|kind| K8sContext {
                    api_version: top_level(doc, "apiVersion").map(str::to_string),
                    kind: Some(kind.to_string()),
                    name: metadata(doc, "name").map(str::to_string),
                    namespace: metadata(doc, "namespace").map(str::to_string),
                    ..K8sContext::default()
                });
                (range, ctx)
            })
            .collect();
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|p| p + 1))
            .collect();
        Contexts {
            text,
            docs,
            line_starts,
        }
    }

    /// The best context the lines allow, when the object has a `kind`. Costs a binary
    /// search and a bounded look at two lines, however long they are: a line may hold
    /// thousands of findings.
    pub fn at(&self, offset: usize) -> Option<K8sContext> {
        let offset = offset.min(self.text.len());
        let i = self.docs.partition_point(|(r, _)| r.start <= offset);
        let (_, base) = self.docs.get(i.checked_sub(1)?)?;
        let mut ctx = base.clone()?;
        // `- name: DB_PASSWORD` then `value: ...` on the next line.
        let k = self
            .line_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let line = self.line(k);
        if k > 0 && line.trim_start().starts_with("value:") {
            if let Some(rest) = self.line(k - 1).trim_start().strip_prefix("- name:") {
                ctx.env = scalar_after(rest).map(str::to_string);
            }
        }
        Some(ctx)
    }

    /// Line `k` without its newline, at most `LINE_LOOK` bytes of it.
    fn line(&self, k: usize) -> &'a str {
        let bytes = self.text.as_bytes();
        let start = self.line_starts[k];
        let end = self
            .line_starts
            .get(k + 1)
            .map_or(bytes.len(), |&next| next - 1)
            .min(start + LINE_LOOK);
        let mut end = end.max(start);
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        self.text[start..end].trim_end_matches('\r')
    }
}

/// How much of a line `Contexts::at` reads: an env entry's lines are short.
const LINE_LOOK: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_offsets_on_one_long_line_each_cost_a_lookup() {
        let mut text =
            String::from("kind: Secret\nmetadata:\n  name: s\n  - name: API_KEY\n    value: ");
        let first = text.len();
        text.push_str(&"tok_abcdefgh ".repeat(200_000));
        let contexts = Contexts::new(&text);
        let start = std::time::Instant::now();
        for offset in (first..text.len()).step_by(13) {
            let ctx = contexts.at(offset).expect("a context");
            assert_eq!(ctx.env.as_deref(), Some("API_KEY"));
        }
        // A scan of the line per offset would take minutes here.
        assert!(start.elapsed() < std::time::Duration::from_secs(30));
    }

    #[test]
    fn context_from_the_lines_of_a_template() {
        let text = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: other
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    name: not-this
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: app
          env:
{{- range .Values.extra }}
            - name: API_TOKEN
              value: s3cr3t-Value
";
        let contexts = Contexts::new(text);
        let ctx = contexts.at(text.find("s3cr3t").unwrap()).unwrap();
        assert_eq!(ctx.kind.as_deref(), Some("Deployment"));
        assert_eq!(ctx.name.as_deref(), Some("web"));
        assert_eq!(ctx.namespace.as_deref(), Some("shop"));
        assert_eq!(ctx.env.as_deref(), Some("API_TOKEN"));
        assert!(Contexts::new("just: text\n").at(3).is_none());
    }
}
