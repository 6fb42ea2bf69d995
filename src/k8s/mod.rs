//! Kubernetes context. Manifests (YAML, multi-document, JSON, `kind: List`), kubeconfigs,
//! Helm values and Kustomize files are parsed with positions, so that every engine match
//! inside one learns its object, container, env var and field path. Structural checks
//! add what only the structure shows (credential-named env vars, committed Secret values,
//! docker configs, RBAC, hostPath mounts); `cluster` links objects across files (who is
//! bound to a role, which pod runs as a powerful service account).

pub mod checks;
pub mod cluster;
pub mod manifest;
pub mod text;
pub mod yaml;

use std::ops::Range;

use crate::finding::{Confidence, K8sContext, TechniqueInfo};
use checks::{Checker, Hit, CHECKS};
pub use cluster::Facts;

/// Credential-access techniques: Microsoft's threat matrix for Kubernetes, with the
/// MITRE ATT&CK technique each maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Technique {
    ListSecrets,
    MountServicePrincipal,
    ContainerServiceAccount,
    AppCredentials,
}

impl Technique {
    pub fn id(self) -> &'static str {
        match self {
            Technique::ListSecrets => "MS-TA9025",
            Technique::MountServicePrincipal => "MS-TA9026",
            Technique::ContainerServiceAccount => "MS-TA9016",
            Technique::AppCredentials => "MS-TA9027",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Technique::ListSecrets => "List K8s secrets",
            Technique::MountServicePrincipal => "Mount service principal",
            Technique::ContainerServiceAccount => "Container service account",
            Technique::AppCredentials => "Application credentials in configuration files",
        }
    }

    pub fn mitre(self) -> &'static str {
        match self {
            Technique::ListSecrets => "T1552.007",
            Technique::MountServicePrincipal => "T1552.001",
            Technique::ContainerServiceAccount => "T1528",
            Technique::AppCredentials => "T1552",
        }
    }

    pub fn info(self) -> TechniqueInfo {
        TechniqueInfo {
            id: self.id().into(),
            name: self.name().into(),
            mitre: self.mitre().into(),
        }
    }
}

/// Which structural checks run, from the same `--disable-rule`, `--only-rule` and
/// `--enable-rule` flags as the regex rules.
#[derive(Debug, Clone)]
pub struct Selection {
    enabled: Vec<bool>,
    /// `--only-rule` named regex rules only: manifests are parsed for context, and no
    /// structural check runs.
    pub structural_checks_off: bool,
    /// `--only-rule` named checks only: the regex rules' findings are not reported.
    pub regex_findings: bool,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            enabled: CHECKS.iter().map(|c| c.default_enabled).collect(),
            structural_checks_off: false,
            regex_findings: true,
        }
    }
}

impl Selection {
    /// `ids` that are not check ids are left for the regex rules.
    pub fn new(disabled: &[String], only: &[String], enabled: &[String]) -> Selection {
        let mut sel = Selection::default();
        let named = |ids: &[String], i: usize| ids.iter().any(|id| id == CHECKS[i].id);
        for i in 0..CHECKS.len() {
            sel.enabled[i] = if only.is_empty() {
                (sel.enabled[i] || named(enabled, i)) && !named(disabled, i)
            } else {
                // Naming a check in `--only-rule` runs it, even one off by default.
                named(only, i) && !named(disabled, i)
            };
        }
        if !only.is_empty() {
            sel.structural_checks_off = !sel.enabled.iter().any(|e| *e);
            sel.regex_findings = only.iter().any(|o| {
                checks::check_index(o).is_none() && crate::credfiles::check_index(o).is_none()
            });
        }
        sel
    }

    pub fn is_enabled(&self, check: usize) -> bool {
        self.enabled.get(check).copied().unwrap_or(false)
    }

    pub fn enabled_ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        CHECKS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.enabled[*i])
            .map(|(_, c)| c.id)
    }
}

/// What the manifest stage found in one blob.
#[derive(Debug, Default)]
pub struct Analysis {
    /// The context of each engine match, in the order given (`None` outside a manifest).
    pub contexts: Vec<Option<K8sContext>>,
    /// Engine matches the structure shows are not literals (a SealedSecret's ciphertext,
    /// a `vault:` reference), or that a structural finding reports better.
    pub dropped: Vec<bool>,
    /// Structural findings that passed the selection and the confidence floor.
    pub hits: Vec<Hit>,
    /// Every value a structural check took for a secret (span, value), reported or not:
    /// snippets mask them all.
    pub masks: Vec<(Range<usize>, Vec<u8>)>,
    /// Objects other files may refer to, and pods whose risk depends on them.
    pub facts: cluster::BlobFacts,
    /// Why the file was read as text only (it did not parse).
    pub parse_error: Option<String>,
}

/// An engine match as the manifest stage sees it.
#[derive(Debug, Clone)]
pub struct MatchSpan {
    pub span: Range<usize>,
    /// From a generic rule (a credential-named key): the structure may know better.
    pub generic: bool,
}

/// Files worth parsing: YAML or JSON (or a kubeconfig) that mention `apiVersion`, and the
/// deployment config files that do not (Helm values, Kustomize, AKS `azure.json`).
pub fn is_candidate(path: &str, data: &[u8]) -> bool {
    const MAX_MANIFEST: usize = 4 << 20;
    if data.len() > MAX_MANIFEST {
        return false;
    }
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    if is_config_file(path) {
        return true;
    }
    let yamlish = name.ends_with(".yaml")
        || name.ends_with(".yml")
        || name.ends_with(".json")
        || name.ends_with(".tpl")
        || name.contains("kubeconfig")
        || path.to_ascii_lowercase().contains(".kube/");
    let lockfile = name.ends_with("-lock.json") || name.ends_with(".lock.json");
    yamlish && !lockfile && memchr::memmem::find(data, b"apiVersion").is_some()
}

/// Config files that are not Kubernetes objects but configure a deployment.
pub fn is_config_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    (yaml
        && (name.starts_with("values")
            || name.contains(".values.")
            || name.starts_with("kustomization")))
        || name == "azure.json"
        || name == "azurestackcloud.json"
}

/// Analyse one blob. `matches` are the engine's reported spans.
pub fn analyze(
    path: &str,
    data: &[u8],
    matches: &[MatchSpan],
    selection: &Selection,
    min_confidence: Confidence,
) -> Option<Analysis> {
    if !is_candidate(path, data) {
        return None;
    }
    let text = std::str::from_utf8(data).ok()?;
    // A template is parsed with its actions masked: `{{ .Values.x }}` would otherwise
    // parse as a nested flow mapping, or not at all.
    let masked = yaml::mask_templates(text);
    let parsed = yaml::parse(masked.as_deref().unwrap_or(text));
    let docs = match parsed {
        Ok(docs) => docs,
        Err(err) => {
            let lines = text::Contexts::new(text);
            let contexts = matches
                .iter()
                .map(|m| lines.at(m.span.start).map(with_technique))
                .collect();
            return Some(Analysis {
                contexts,
                dropped: vec![false; matches.len()],
                parse_error: Some(err.to_string()),
                ..Analysis::default()
            });
        }
    };
    // Values are read from the masked text, where a template action is filler that no
    // check takes for a literal; names are shown from the original.
    let values_text = masked.as_deref().unwrap_or(text);
    let config_file = is_config_file(path);
    let objects: Vec<manifest::Object<'_>> =
        manifest::objects(&docs, masked.as_ref().map(|_| text))
            .into_iter()
            .filter(|o| o.is_resource() || config_file || o.is_kind("Config"))
            .collect();
    let all_matches = SpanIndex::new(matches.iter().map(|m| m.span.clone()));
    let specific = SpanIndex::new(
        matches
            .iter()
            .filter(|m| !m.generic)
            .map(|m| m.span.clone()),
    );

    let mut hits = Vec::new();
    if !selection.structural_checks_off {
        for object in &objects {
            Checker {
                object,
                matches: &all_matches,
                text: values_text,
                hits: &mut hits,
            }
            .run(config_file);
        }
    }
    // Every value a check took for a secret is masked in snippets, even when its own
    // finding is filtered out below.
    let masks: Vec<(Range<usize>, Vec<u8>)> = hits
        .iter()
        .filter(|h| !h.secret.is_empty())
        .map(|h| (h.span.clone(), h.secret.clone()))
        .collect();
    // A value a specific rule reports keeps that rule; a structural finding is more
    // precise than a generic rule's.
    hits.retain(|h| h.secret.is_empty() || !specific.overlaps(&h.span));
    let structural = SpanIndex::new(
        hits.iter()
            .filter(|h| !h.secret.is_empty())
            .map(|h| h.span.clone()),
    );

    let mut contexts = Vec::with_capacity(matches.len());
    let mut dropped = Vec::with_capacity(matches.len());
    for m in matches {
        let found = manifest::object_at(&objects, m.span.start)
            .and_then(|o| Some((o, manifest::locate(o.root, m.span.start)?)));
        let Some((object, path)) = found else {
            contexts.push(None);
            dropped.push(false);
            continue;
        };
        let drop = m.generic
            && (object
                .kind
                .is_some_and(|k| checks::NO_LITERALS.contains(&k))
                || matches!(path.first(), Some(manifest::Step::Key("sops", _)))
                // A Secret's values are judged by `k8s.secret-value`, which knows a
                // password hash or a certificate from a password.
                || (object.is_kind("Secret")
                    && matches!(
                        path.first(),
                        Some(manifest::Step::Key("data" | "stringData", _))
                    ))
                || names_a_reference(path.last(), values_text, &m.span)
                || structural.overlaps(&m.span));
        contexts.push(Some(with_technique(object.context(&path))));
        dropped.push(drop);
    }
    hits.retain(|h| selection.is_enabled(h.check) && h.confidence >= min_confidence);
    let facts = cluster::BlobFacts::collect(&objects);
    Some(Analysis {
        contexts,
        dropped,
        hits,
        masks,
        facts,
        parse_error: None,
    })
}

/// Spans, for "does anything overlap this?" in O(log n): starts sorted, with the
/// furthest end seen so far. An interval starting before `b` overlaps `[a, b)` when it
/// ends after `a`, and the running maximum says whether any does.
pub struct SpanIndex {
    starts: Vec<usize>,
    max_end: Vec<usize>,
}

impl SpanIndex {
    pub fn new(spans: impl Iterator<Item = Range<usize>>) -> SpanIndex {
        let mut spans: Vec<Range<usize>> = spans.collect();
        spans.sort_by_key(|s| s.start);
        let mut furthest = 0;
        let max_end = spans
            .iter()
            .map(|s| {
                furthest = furthest.max(s.end);
                furthest
            })
            .collect();
        SpanIndex {
            starts: spans.iter().map(|s| s.start).collect(),
            max_end,
        }
    }

    pub fn overlaps(&self, span: &Range<usize>) -> bool {
        let before = self.starts.partition_point(|&s| s < span.end);
        before > 0 && self.max_end[before - 1] > span.start
    }
}

/// A generic match that is a whole one-line scalar holding a secret-store reference.
/// References are short: a longer scalar is not read, so that the many matches of one
/// huge scalar do not each read all of it.
fn names_a_reference(step: Option<&manifest::Step<'_>>, text: &str, span: &Range<usize>) -> bool {
    const LONGEST_REFERENCE: usize = 4096;
    let Some(scalar) = step.and_then(|s| s.node().as_scalar()) else {
        return false;
    };
    let value = checks::value_span(text, scalar);
    value.start <= span.start
        && span.end <= value.end
        && scalar.value.len() <= LONGEST_REFERENCE
        && !scalar.value.contains('\n')
        && checks::is_reference(&scalar.value)
}

/// Every secret found in a manifest enables "application credentials in configuration
/// files".
fn with_technique(mut ctx: K8sContext) -> K8sContext {
    ctx.technique = Some(Technique::AppCredentials.info());
    ctx
}
