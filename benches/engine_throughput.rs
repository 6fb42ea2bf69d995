//! Engine throughput on a mixed corpus that this benchmark builds: source code, YAML
//! manifests, JSON, minified JavaScript, lockfiles and a few planted secrets. Prints MB/s
//! for one core and for all cores. Run with `cargo bench --bench engine_throughput`.
//!
//! `TOLLGATE_BENCH_MB` sets the corpus size (default 64). With `TOLLGATE_CORPUS_DIR` set,
//! the corpus is written there as a file tree instead (for `benches/compare_dir.sh`).
//! `TOLLGATE_BENCH_DISABLE` leaves rules out (comma-separated ids), to price them.

use std::time::Instant;

use rayon::prelude::*;
use tollgate::engine::checksum::base62;
use tollgate::engine::{Engine, EngineOptions, RuleSelection, Scratch, ScratchPool};

/// A small deterministic generator, so every run scans the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A word from `WORDS`, credential words only rarely.
    fn word(&mut self) -> &'static str {
        if self.next() % 1000 < CREDENTIAL_WORD_PER_MILLE {
            WORDS[WORDS.len() - 1 - (self.next() % 4) as usize]
        } else {
            WORDS[(self.next() % (WORDS.len() as u64 - 4)) as usize]
        }
    }
    fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        (0..n)
            .map(|_| A[(self.next() % 62) as usize] as char)
            .collect()
    }
    /// AWS key IDs use the base32 alphabet.
    fn base32(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        (0..n)
            .map(|_| A[(self.next() % 32) as usize] as char)
            .collect()
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit((self.next() % 16) as u32, 16).unwrap())
            .collect()
    }
}

/// Identifiers for generated code. Credential words (`token`, `password`, `secret`)
/// are kept about as rare as in real code: measured on the cargo registry sources and
/// CPython's standard library, `token` occurs once per 4–12 KB and `passw` / `secret`
/// once per 20–500 KB.
const WORDS: &[&str] = &[
    "request", "response", "handler", "config", "value", "index", "buffer", "client", "server",
    "user", "session", "cache", "result", "error", "status", "message", "payload", "context",
    "item", "list", "map", "count", "offset", "length", "width", "height", "parser", "reader",
    "writer", "stream", "socket", "address", "port", "host", "path", "file", "name", "entry",
    "node", "tree", "graph", "edge", "vertex", "queue", "stack", "frame", "event", "signal",
    "timer", "clock", "state", "mode", "flag", "option", "setting", "schema", "table", "row",
    "column", "field", "record", "batch", "chunk", "block", "page", "view", "model", "layer",
    "input", "output", "source", "target", "origin", "range", "limit", "bound", "scope", "span",
    "token", "key", "password", "secret",
];
/// How often the credential words at the end of `WORDS` may be picked, in 1/1000s.
const CREDENTIAL_WORD_PER_MILLE: u64 = 6;

fn source_file(r: &mut Rng) -> String {
    let mut s = String::from("use std::collections::HashMap;\n\n");
    for i in 0..40 {
        let a = r.word();
        let b = r.word();
        s.push_str(&format!(
            "pub fn {a}_{b}_{i}(input: &str, {b}: usize) -> Result<String, Error> {{\n    let {a} = lookup_{b}(input)?;\n    if {a}.len() > {b} {{ return Err(Error::new(\"{a} too long\")); }}\n    // resolve the {b} from the {a} table\n    Ok(format!(\"{{}}-{{}}\", {a}, {b}))\n}}\n\n"
        ));
    }
    s
}

fn manifest(r: &mut Rng) -> String {
    let name = r.word();
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}-api\n  namespace: prod\n  labels:\n    app: {name}\nspec:\n  replicas: 3\n  template:\n    metadata:\n      annotations:\n        checksum/config: {}\n    spec:\n      containers:\n        - name: api\n          image: registry.local/{name}@sha256:{}\n          env:\n            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: {name}-db\n                  key: password\n            - name: LOG_LEVEL\n              value: info\n          resources:\n            limits:\n              cpu: 500m\n              memory: 256Mi\n---\n",
        r.hex(64),
        r.hex(64)
    )
}

fn json_doc(r: &mut Rng) -> String {
    let mut s = String::from("{\n  \"items\": [\n");
    for i in 0..60 {
        s.push_str(&format!(
            "    {{\"id\": {i}, \"name\": \"{}\", \"uuid\": \"{}-{}-{}-{}-{}\", \"enabled\": true, \"tokenCount\": {}}},\n",
            r.word(),
            r.hex(8),
            r.hex(4),
            r.hex(4),
            r.hex(4),
            r.hex(12),
            r.next() % 4096
        ));
    }
    s.push_str("    {}\n  ]\n}\n");
    s
}

fn minified_js(r: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..400 {
        let a = r.word();
        let b = r.word();
        s.push_str(&format!(
            "function {a}{}(e,t){{var n=t.{b}||{{}};return e.{a}=n,void 0!==n.key?n.key:\"{}-{}\"}};",
            r.alnum(3),
            r.word(),
            r.word()
        ));
    }
    s.push('\n');
    s
}

fn lockfile(r: &mut Rng) -> String {
    let mut s = String::from("{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n");
    for _ in 0..50 {
        let name = format!("{}-{}", r.word(), r.word());
        s.push_str(&format!(
            "    \"node_modules/{name}\": {{\n      \"version\": \"1.{}.{}\",\n      \"resolved\": \"https://registry.npmjs.org/{name}/-/{name}-1.0.0.tgz\",\n      \"integrity\": \"sha512-{}==\"\n    }},\n",
            r.next() % 20,
            r.next() % 20,
            r.alnum(86)
        ));
    }
    s.push_str("  }\n}\n");
    s
}

fn planted_secret(r: &mut Rng) -> String {
    let body = r.alnum(30);
    let ghp = format!(
        "ghp_{body}{}",
        base62(u64::from(crc32fast::hash(body.as_bytes())), 6)
    );
    format!(
        "# service settings\nGITHUB_TOKEN={ghp}\nAWS_ACCESS_KEY_ID=AKIA{}\nDATABASE_URL=postgres://app:{}@db.internal:5432/app\n",
        r.base32(16),
        r.alnum(14)
    )
}

/// A corpus file: where it would sit in a repository, and its bytes.
struct CorpusFile {
    path: String,
    bytes: Vec<u8>,
}

fn write_corpus(dir: &std::path::Path, corpus: &[CorpusFile]) -> std::io::Result<()> {
    for f in corpus {
        let path = dir.join(&f.path);
        std::fs::create_dir_all(path.parent().expect("corpus paths have a folder"))?;
        std::fs::write(path, &f.bytes)?;
    }
    Ok(())
}

fn build_corpus(target_bytes: usize) -> Vec<CorpusFile> {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut files = Vec::new();
    let mut total = 0;
    let mut i = 0u64;
    while total < target_bytes {
        let (folder, name, text) = match i % 10 {
            4 | 5 => ("deploy", "deployment.yaml", manifest(&mut r)),
            6 => ("data", "items.json", json_doc(&mut r)),
            7 => ("web", "bundle.min.js", minified_js(&mut r)),
            8 => ("web", "package-lock.json", lockfile(&mut r)),
            9 if i % 50 == 9 => ("config", "service.env", planted_secret(&mut r)),
            _ => ("src", "handler.rs", source_file(&mut r)),
        };
        total += text.len();
        files.push(CorpusFile {
            path: format!("{folder}/m{:03}/{i}-{name}", i / 400),
            bytes: text.into_bytes(),
        });
        i += 1;
    }
    files
}

/// Never inlined, so that callgrind can count the timed (warm) passes alone:
/// `valgrind --tool=callgrind --toggle-collect='engine_throughput::best_of*'`.
#[inline(never)]
fn best_of(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let mb: usize = std::env::var("TOLLGATE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let corpus = build_corpus(mb * 1_000_000);
    let bytes: usize = corpus.iter().map(|f| f.bytes.len()).sum();
    if let Some(dir) = std::env::var_os("TOLLGATE_CORPUS_DIR") {
        write_corpus(std::path::Path::new(&dir), &corpus).expect("write corpus");
        println!("wrote {} files, {:.1} MB", corpus.len(), bytes as f64 / 1e6);
        return;
    }
    // `TOLLGATE_BENCH_DISABLE`: rule ids (comma-separated) left out, to measure what
    // a rule or a family of rules costs.
    let disabled: Vec<String> = std::env::var("TOLLGATE_BENCH_DISABLE")
        .map(|v| {
            v.split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let rules = RuleSelection {
        builtin: true,
        disabled,
        ..RuleSelection::default()
    }
    .load()
    .expect("built-in rules");
    let rule_count = rules.len();
    let engine = Engine::new(rules, EngineOptions::default()).expect("engine");

    // One untimed pass warms the lazy DFAs; then the best of three passes is reported,
    // since a shared machine's noise only ever adds time.
    let mut scratch = Scratch::default();
    let findings: usize = corpus
        .iter()
        .map(|f| engine.scan(&f.bytes, &mut scratch).matches.len())
        .sum();
    let single = best_of(3, || {
        for f in &corpus {
            engine.scan(&f.bytes, &mut scratch);
        }
    });
    let scratches = ScratchPool::default();
    let parallel_findings: usize = corpus
        .par_iter()
        .map(|f| scratches.with(|s| engine.scan(&f.bytes, s).matches.len()))
        .sum();
    assert_eq!(findings, parallel_findings);
    let parallel = best_of(3, || {
        corpus.par_iter().for_each(|f| {
            scratches.with(|s| engine.scan(&f.bytes, s));
        })
    });

    let mbs = |secs: f64| bytes as f64 / 1e6 / secs;
    println!(
        "engine throughput: {} files, {:.1} MB, {rule_count} rules, {findings} findings",
        corpus.len(),
        bytes as f64 / 1e6
    );
    println!("  1 thread : {:>8.1} MB/s  ({single:.3} s)", mbs(single));
    println!(
        "  {} threads: {:>8.1} MB/s  ({parallel:.3} s)",
        rayon::current_num_threads(),
        mbs(parallel)
    );
}
