//! Kubernetes objects in parsed documents, and the way from a byte offset to the object,
//! field path, container and env var that hold it.

use std::fmt::Write as _;
use std::ops::Range;

use super::yaml::{Document, Node};
use crate::finding::K8sContext;

/// One object: a document's root, or an item of a `kind: List`. Documents without a
/// `kind` (Helm values, cloud config, docker-compose) are objects too, with no identity:
/// their findings still get a field path.
#[derive(Debug, Clone, Copy)]
pub struct Object<'a> {
    pub root: &'a Node,
    /// The file as written, when it was parsed with its template actions masked: names
    /// are shown as written (`{{ include "web.fullname" . }}`), not as filler.
    pub original: Option<&'a str>,
    pub api_version: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub name: Option<&'a str>,
    pub namespace: Option<&'a str>,
}

impl<'a> Object<'a> {
    fn of(root: &'a Node, original: Option<&'a str>) -> Object<'a> {
        let shown = |path: &[&str]| shown(root.at(path)?, original);
        Object {
            root,
            original,
            api_version: shown(&["apiVersion"]),
            kind: shown(&["kind"]),
            name: shown(&["metadata", "name"]),
            namespace: shown(&["metadata", "namespace"]),
        }
    }

    pub fn is_kind(&self, kind: &str) -> bool {
        self.kind == Some(kind)
    }

    /// A Kubernetes object, as opposed to a config document that merely is YAML.
    pub fn is_resource(&self) -> bool {
        self.kind.is_some() && self.api_version.is_some()
    }

    /// `kind/namespace/name`, for messages and stable fingerprints.
    pub fn identity(&self) -> String {
        let mut out = self.kind.unwrap_or("object").to_string();
        if let Some(ns) = self.namespace {
            let _ = write!(out, " {ns}/");
        } else {
            out.push(' ');
        }
        out.push_str(self.name.unwrap_or("(unnamed)"));
        out
    }

    /// The context of a node at `path` inside this object.
    pub fn context(&self, path: &[Step<'a>]) -> K8sContext {
        let mut ctx = K8sContext {
            api_version: self.api_version.map(str::to_string),
            kind: self.kind.map(str::to_string),
            namespace: self.namespace.map(str::to_string),
            name: self.name.map(str::to_string),
            field: (!path.is_empty()).then(|| field_path(path)),
            ..K8sContext::default()
        };
        // The innermost container and env entry on the path.
        for (i, step) in path.iter().enumerate() {
            if let (Step::Key(key, _), Some(Step::Index(_, item))) = (step, path.get(i + 1)) {
                let parent_is_pod_spec = matches!(
                    i.checked_sub(1).map(|p| &path[p]),
                    Some(Step::Key("spec", _))
                );
                let name = || item.get("name").and_then(|n| shown(n, self.original));
                if CONTAINER_LISTS.contains(key) && parent_is_pod_spec {
                    ctx.container = name().map(str::to_string);
                    ctx.env = None;
                }
                if *key == "env" && ctx.container.is_some() {
                    ctx.env = name().map(str::to_string);
                }
            }
        }
        ctx
    }
}

/// A scalar as the user wrote it: its value, or, in a masked template, its source text
/// without quotes.
fn shown<'a>(node: &'a Node, original: Option<&'a str>) -> Option<&'a str> {
    let scalar = node.as_scalar()?;
    match original.and_then(|text| text.get(scalar.span.clone())) {
        Some(text) if text.contains("{{") => Some(text.trim_matches(|c| c == '"' || c == '\'')),
        _ => Some(&scalar.value),
    }
}

pub const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// Every object in a file's documents, in source order. `original`: the unmasked text
/// of a template.
pub fn objects<'a>(docs: &'a [Document], original: Option<&'a str>) -> Vec<Object<'a>> {
    let mut out = Vec::new();
    for doc in docs {
        let object = Object::of(&doc.root, original);
        let is_list = object
            .kind
            .is_some_and(|k| k == "List" || k.ends_with("List"));
        match doc.root.get("items") {
            Some(items @ Node::Seq(..)) if is_list => {
                out.extend(items.items().iter().map(|item| Object::of(item, original)))
            }
            _ => out.push(object),
        }
    }
    out
}

/// One step from a node to a child: a mapping key (with the child) or a sequence index
/// (with the item).
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    Key(&'a str, &'a Node),
    Index(usize, &'a Node),
}

impl<'a> Step<'a> {
    pub fn node(&self) -> &'a Node {
        match self {
            Step::Key(_, n) | Step::Index(_, n) => n,
        }
    }
}

/// The object holding `offset`, by binary search over objects in source order.
pub fn object_at<'o, 'a>(objects: &'o [Object<'a>], offset: usize) -> Option<&'o Object<'a>> {
    let i = objects.partition_point(|o| o.root.span().start <= offset);
    let object = &objects[i.checked_sub(1)?];
    contains(&object.root.span(), offset).then_some(object)
}

/// The path from `root` to the innermost node whose span holds `offset`. A mapping key
/// counts as part of its entry. `None` when the offset is outside `root`.
pub fn locate(root: &Node, offset: usize) -> Option<Vec<Step<'_>>> {
    if !contains(&root.span(), offset) {
        return None;
    }
    let mut path = Vec::new();
    let mut node = root;
    loop {
        // Children are in source order: the candidate is the last one starting at or
        // before the offset (a binary search, so a huge mapping costs log n per lookup).
        let next = match node {
            Node::Map(entries, _) => {
                let i = entries.partition_point(|(k, _)| k.span().start <= offset);
                i.checked_sub(1).and_then(|i| {
                    let (k, v) = &entries[i];
                    let key = k.as_str()?;
                    (contains(&k.span(), offset) || contains(&v.span(), offset))
                        .then_some(Step::Key(key, v))
                })
            }
            Node::Seq(items, _) => {
                let i = items.partition_point(|item| item.span().start <= offset);
                i.checked_sub(1)
                    .filter(|&i| contains(&items[i].span(), offset))
                    .map(|i| Step::Index(i, &items[i]))
            }
            Node::Scalar(_) | Node::Alias(_) => None,
        };
        match next {
            Some(step) => {
                node = step.node();
                path.push(step);
            }
            None => return Some(path),
        }
    }
}

fn contains(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset < span.end.max(span.start + 1)
}

/// `spec.template.spec.containers[0].env[1].value`; keys that are not plain identifiers
/// are quoted: `data[".dockerconfigjson"]`.
pub fn field_path(path: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(key, _) => {
                let plain = !key.is_empty()
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if plain {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                } else {
                    let _ = write!(out, "[{}]", serde_json::Value::from(*key));
                }
            }
            Step::Index(i, _) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

/// Every pod spec in an object: a mapping named `spec` that lists `containers`. This
/// finds Pods, every controller's `spec.template.spec`, CronJobs' `jobTemplate`, and any
/// custom kind built the same way (Argo Rollouts, OpenShift DeploymentConfig).
pub fn pod_specs<'a>(root: &'a Node) -> Vec<(Vec<Step<'a>>, &'a Node)> {
    let mut out = Vec::new();
    let mut stack: Vec<(Vec<Step<'a>>, &'a Node)> = vec![(Vec::new(), root)];
    while let Some((path, node)) = stack.pop() {
        // Pod specs sit a few levels down; containers never hold another pod spec.
        if path.len() > 8 {
            continue;
        }
        for (k, v) in node.entries() {
            let Some(key) = k.as_str() else { continue };
            let mut child = path.clone();
            child.push(Step::Key(key, v));
            if key == "spec" && matches!(v.get("containers"), Some(Node::Seq(..))) {
                out.push((child, v));
            } else if matches!(v, Node::Map(..)) {
                stack.push((child, v));
            }
        }
    }
    out.sort_by_key(|(_, spec)| spec.span().start);
    out
}

/// The containers of a pod spec, with their list name and index.
pub fn containers(spec: &Node) -> impl Iterator<Item = (&'static str, usize, &Node)> {
    CONTAINER_LISTS.iter().flat_map(move |list| {
        spec.get(list)
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(move |(i, c)| (*list, i, c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::yaml::parse;

    const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
  namespace: payments
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: migrate:1
      containers:
        - name: api
          env:
            - name: LOG_LEVEL
              value: info
            - name: DB_PASSWORD
              value: hunter2-Prod
";

    #[test]
    fn an_offset_maps_to_object_container_and_env() {
        let docs = parse(DEPLOYMENT).unwrap();
        let objs = objects(&docs, None);
        let offset = DEPLOYMENT.find("hunter2").unwrap();
        let path = locate(objs[0].root, offset).unwrap();
        let ctx = objs[0].context(&path);
        assert_eq!(ctx.kind.as_deref(), Some("Deployment"));
        assert_eq!(ctx.namespace.as_deref(), Some("payments"));
        assert_eq!(ctx.name.as_deref(), Some("payments-api"));
        assert_eq!(ctx.container.as_deref(), Some("api"));
        assert_eq!(ctx.env.as_deref(), Some("DB_PASSWORD"));
        assert_eq!(
            ctx.field.as_deref(),
            Some("spec.template.spec.containers[0].env[1].value")
        );
    }

    #[test]
    fn list_items_are_objects_and_odd_keys_are_quoted() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: a}\n  data:\n    .dockerconfigjson: e30=\n";
        let docs = parse(text).unwrap();
        let objs = objects(&docs, None);
        assert_eq!(objs.len(), 1);
        assert!(objs[0].is_kind("Secret"));
        let path = locate(objs[0].root, text.find("e30=").unwrap()).unwrap();
        assert_eq!(field_path(&path), "data[\".dockerconfigjson\"]");
    }

    #[test]
    fn pod_specs_are_found_wherever_a_template_nests_them() {
        let text = "kind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: c}]\n";
        let docs = parse(text).unwrap();
        let specs = pod_specs(&docs[0].root);
        assert_eq!(specs.len(), 1);
        assert_eq!(
            field_path(&specs[0].0),
            "spec.jobTemplate.spec.template.spec"
        );
        let names: Vec<_> = containers(specs[0].1)
            .filter_map(|(_, _, c)| c.str_at(&["name"]))
            .collect();
        assert_eq!(names, ["c"]);
    }
}
