//! Engine throughput on a mixed corpus that this benchmark builds: source code, YAML
//! manifests, JSON, minified JavaScript, lockfiles and a few planted secrets. Prints MB/s
//! for one core and for all cores. Run with `cargo bench --bench engine_throughput`.
//!
//! `TOLLGATE_BENCH_MB` sets the corpus size (default 64).

use std::time::Instant;

use rayon::prelude::*;
use tollgate::engine::checksum::base62;
use tollgate::engine::{Engine, EngineOptions, RuleSelection, Scratch};

/// A small deterministic generator, so every run scans the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        (0..n).map(|_| A[(self.next() % 62) as usize] as char).collect()
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from_digit((self.next() % 16) as u32, 16).unwrap()).collect()
    }
}

const WORDS: &[&str] = &[
    "request", "response", "handler", "config", "value", "index", "buffer", "client", "server",
    "token", "user", "session", "cache", "result", "error", "status", "message", "payload",
    "password", "secret", "key", "context", "item", "list", "map", "count", "offset",
];

fn source_file(r: &mut Rng) -> String {
    let mut s = String::from("use std::collections::HashMap;\n\n");
    for i in 0..40 {
        let a = r.pick(WORDS);
        let b = r.pick(WORDS);
        s.push_str(&format!(
            "pub fn {a}_{b}_{i}(input: &str, {b}: usize) -> Result<String, Error> {{\n    let {a} = lookup_{b}(input)?;\n    if {a}.len() > {b} {{ return Err(Error::new(\"{a} too long\")); }}\n    // resolve the {b} from the {a} table\n    Ok(format!(\"{{}}-{{}}\", {a}, {b}))\n}}\n\n"
        ));
    }
    s
}

fn manifest(r: &mut Rng) -> String {
    let name = r.pick(WORDS);
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
            r.pick(WORDS),
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
        let a = r.pick(WORDS);
        let b = r.pick(WORDS);
        s.push_str(&format!(
            "function {a}{}(e,t){{var n=t.{b}||{{}};return e.{a}=n,void 0!==n.key?n.key:\"{}\"}};",
            r.alnum(3),
            r.alnum(12)
        ));
    }
    s.push('\n');
    s
}

fn lockfile(r: &mut Rng) -> String {
    let mut s = String::from("{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n");
    for _ in 0..50 {
        let name = format!("{}-{}", r.pick(WORDS), r.pick(WORDS));
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
    let ghp = format!("ghp_{body}{}", base62(u64::from(crc32fast::hash(body.as_bytes())), 6));
    format!(
        "# service settings\nGITHUB_TOKEN={ghp}\nAWS_ACCESS_KEY_ID=AKIA{}\nDATABASE_URL=postgres://app:{}@db.internal:5432/app\n",
        r.alnum(16).to_uppercase(),
        r.alnum(14)
    )
}

fn build_corpus(target_bytes: usize) -> Vec<Vec<u8>> {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut files = Vec::new();
    let mut total = 0;
    let mut i = 0u64;
    while total < target_bytes {
        let text = match i % 10 {
            0..=3 => source_file(&mut r),
            4 | 5 => manifest(&mut r),
            6 => json_doc(&mut r),
            7 => minified_js(&mut r),
            8 => lockfile(&mut r),
            _ if i % 50 == 9 => planted_secret(&mut r),
            _ => source_file(&mut r),
        };
        total += text.len();
        files.push(text.into_bytes());
        i += 1;
    }
    files
}

fn main() {
    let mb: usize = std::env::var("TOLLGATE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let corpus = build_corpus(mb * 1_000_000);
    let bytes: usize = corpus.iter().map(Vec::len).sum();
    let rules = RuleSelection {
        builtin: true,
        ..RuleSelection::default()
    }
    .load()
    .expect("built-in rules");
    let rule_count = rules.len();
    let engine = Engine::new(rules, EngineOptions::default()).expect("engine");

    // Warm up caches and the lazy DFAs once.
    let mut scratch = Scratch::default();
    for f in corpus.iter().take(200) {
        engine.scan(f, &mut scratch);
    }

    let start = Instant::now();
    let mut findings = 0;
    for f in &corpus {
        findings += engine.scan(f, &mut scratch).matches.len();
    }
    let single = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let parallel_findings: usize = corpus
        .par_iter()
        .map_init(Scratch::default, |s, f| engine.scan(f, s).matches.len())
        .sum();
    let parallel = start.elapsed().as_secs_f64();
    assert_eq!(findings, parallel_findings);

    let mbs = |secs: f64| bytes as f64 / 1e6 / secs;
    println!("engine throughput: {} files, {:.1} MB, {rule_count} rules, {findings} findings", corpus.len(), bytes as f64 / 1e6);
    println!("  1 thread : {:>8.1} MB/s  ({single:.3} s)", mbs(single));
    println!(
        "  {} threads: {:>8.1} MB/s  ({parallel:.3} s)",
        rayon::current_num_threads(),
        mbs(parallel)
    );
}
