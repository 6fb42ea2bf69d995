//! Worst-case shapes for the per-blob pipeline (engine, manifest stage, positions and
//! snippets: `scan::scan_blob`), each at 1, 4 and 10 MB, against a normal corpus of the
//! same sizes. A stage that costs more than linear time shows as MB/s falling with size;
//! a hostile pusher who finds one can run the hook past its timeout. Run with
//! `cargo bench --bench worst_case`; `TOLLGATE_WORST_MB=1,4` picks the sizes, and
//! `TOLLGATE_WORST_ONLY=long-line` one shape.

use std::time::Instant;

use base64::Engine as _;
use tollgate::engine::checksum::base62;
use tollgate::engine::{Engine, Scratch};
use tollgate::scan::{scan_blob, ScanConfig};
use tollgate::source::Provenance;

/// A small deterministic generator, so every run scans the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        (0..n)
            .map(|_| A[(self.next() % 62) as usize] as char)
            .collect()
    }
    /// A fake GitHub PAT with a valid checksum, different on every call.
    fn github_token(&mut self) -> String {
        let body = self.alnum(30);
        let crc = base62(u64::from(crc32fast::hash(body.as_bytes())), 6);
        format!("ghp_{body}{crc}")
    }
}

/// Repeat `piece` (a fresh one each time) until the text reaches `size` bytes.
fn fill(size: usize, mut piece: impl FnMut(usize) -> String) -> String {
    let mut s = String::with_capacity(size + 256);
    let mut i = 0;
    while s.len() < size {
        s.push_str(&piece(i));
        i += 1;
    }
    s
}

struct Shape {
    name: &'static str,
    path: &'static str,
    build: fn(&mut Rng, usize) -> String,
}

const SHAPES: &[Shape] = &[
    Shape {
        // Code, manifests and JSON with a planted token every ~60 KB, about as often as
        // the corpus of `engine_throughput`.
        name: "normal",
        path: "src/mixed.txt",
        build: |r, size| {
            fill(size, |i| {
                match i % 200 {
                0 => format!("# settings\nGITHUB_TOKEN={}\n", r.github_token()),
                n if n % 3 == 0 => format!(
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: registry.local/app@sha256:{}\n          env:\n            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: app-db\n                  key: password\n",
                    r.alnum(64)
                ),
                n if n % 3 == 1 => format!(
                    "    {{\"id\": {i}, \"name\": \"{}\", \"enabled\": true, \"tokenCount\": {}}},\n",
                    r.alnum(10),
                    r.next() % 4096
                ),
                _ => format!(
                    "pub fn handler_{i}(input: &str, limit: usize) -> Result<String, Error> {{\n    let value = lookup_{}(input)?;\n    // resolve the session from the cache\n    Ok(format!(\"{{}}-{{}}\", value, limit))\n}}\n",
                    r.alnum(6)
                ),
            }
            })
        },
    },
    Shape {
        name: "long-line",
        path: "bundle.min.js",
        build: |r, size| {
            let mut s = fill(size, |_| {
                format!("{} GITHUB_TOKEN={} ", "x".repeat(40), r.github_token())
            });
            s.push('\n');
            s
        },
    },
    Shape {
        name: "long-line+markers",
        path: "bundle.min.js",
        build: |r, size| {
            fill(size, |i| {
                let marker = if i % 2 == 0 { " // tollgate:allow" } else { "" };
                format!("{} TOKEN={}{marker} ", "x".repeat(40), r.github_token())
            })
        },
    },
    Shape {
        name: "dense-matches",
        path: "tokens.txt",
        build: |r, size| fill(size, |_| format!("{} ", r.github_token())),
    },
    Shape {
        name: "dense-generic",
        path: "app.properties",
        build: |r, size| fill(size, |_| format!("password={} ", r.alnum(16))),
    },
    Shape {
        name: "dense-keywords",
        path: "words.txt",
        build: |_, size| fill(size, |_| "password token secret apikey ".into()),
    },
    Shape {
        name: "deep-decoding",
        path: "blob.txt",
        build: |r, size| {
            let b64 = base64::engine::general_purpose::STANDARD;
            fill(size, |_| {
                let inner = b64.encode(format!("GITHUB_TOKEN={} ", r.github_token()));
                format!("{} ", b64.encode(format!("payload={inner}")))
            })
        },
    },
    Shape {
        name: "one-base64-run",
        path: "blob.txt",
        build: |r, size| {
            let b64 = base64::engine::general_purpose::STANDARD;
            let text = fill(size * 3 / 4, |_| format!("TOKEN={} ", r.github_token()));
            b64.encode(text)
        },
    },
    Shape {
        name: "base64-runs",
        path: "blob.txt",
        build: |r, size| {
            // Runs just under the decoder's span limit, each decoding to many tokens:
            // every match of one run shares the run's span.
            let b64 = base64::engine::general_purpose::STANDARD;
            fill(size, |_| {
                let text = fill(40_000, |_| format!("TOKEN={} ", r.github_token()));
                format!("{}\n", b64.encode(text))
            })
        },
    },
    Shape {
        name: "small-yaml-docs",
        path: "deploy/all.yaml",
        build: |r, size| {
            fill(size, |i| {
                format!(
                    "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s{i}\nstringData:\n  password: {}\n",
                    r.alnum(20)
                )
            })
        },
    },
    Shape {
        name: "yaml-long-lines",
        path: "deploy/flow.yaml",
        build: |r, size| {
            let mut s =
                String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: {");
            s.push_str(&fill(size, |i| {
                format!(
                    "k{i}: \"password={} token={}\", ",
                    r.alnum(16),
                    r.github_token()
                )
            }));
            s.push_str("}\n");
            s
        },
    },
    Shape {
        // A template that does not parse: context comes from its lines.
        name: "broken-yaml-line",
        path: "deploy/broken.yaml",
        build: |r, size| {
            let mut s = String::from("apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n  bad: [\nstringData:\n  - name: API\n    value: ");
            s.push_str(&fill(size, |_| {
                format!("GITHUB_TOKEN={} ", r.github_token())
            }));
            s.push('\n');
            s
        },
    },
    Shape {
        // One plain scalar holding thousands of generic matches.
        name: "yaml-long-scalar",
        path: "deploy/cm.yaml",
        build: |r, size| {
            let mut s = String::from(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  urls: ",
            );
            s.push_str(&fill(size.min(4_000_000), |_| {
                format!("https://ci:{}@nexus.acme.io/simple ", r.alnum(16))
            }));
            s.push('\n');
            s
        },
    },
    Shape {
        name: "no-newlines",
        path: "bundle.min.js",
        build: |r, size| {
            fill(size, |_| {
                format!("function {}(e,t){{return e+t}};", r.alnum(6))
            })
        },
    },
    Shape {
        name: "deep-indent",
        path: "values.yaml",
        build: |r, size| {
            fill(size, |i| {
                format!("{}password: {}\n", " ".repeat(i % 4000), r.alnum(16))
            })
        },
    },
];

fn main() {
    let sizes: Vec<usize> = std::env::var("TOLLGATE_WORST_MB")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 4, 10]);
    let only = std::env::var("TOLLGATE_WORST_ONLY").ok();
    let config = ScanConfig::default();
    let rules = config.rules.load().expect("built-in rules");
    let engine = Engine::new(rules, config.engine).expect("engine");
    let mut scratch = Scratch::default();
    // One untimed pass warms the regexes' lazy DFAs.
    let warm = (SHAPES[0].build)(&mut Rng(1), 1_000_000);
    let provenance = Provenance {
        path: SHAPES[0].path.into(),
        rel_path: SHAPES[0].path.into(),
        git: None,
    };
    scan_blob(&engine, warm.as_bytes(), &provenance, &config, &mut scratch);

    print!("{:<20}", "shape");
    for mb in &sizes {
        print!("{:>22}", format!("{mb} MB: MB/s (findings)"));
    }
    println!();
    for shape in SHAPES {
        if only
            .as_deref()
            .is_some_and(|o| o != shape.name && shape.name != "normal")
        {
            continue;
        }
        print!("{:<20}", shape.name);
        for &mb in &sizes {
            let text = (shape.build)(&mut Rng(0x9E37_79B9_7F4A_7C15), mb * 1_000_000);
            let provenance = Provenance {
                path: shape.path.into(),
                rel_path: shape.path.into(),
                git: None,
            };
            let start = Instant::now();
            let report = scan_blob(&engine, text.as_bytes(), &provenance, &config, &mut scratch);
            let secs = start.elapsed().as_secs_f64();
            let cell = format!(
                "{:.1} ({})",
                text.len() as f64 / 1e6 / secs,
                report.findings.len() as u64 + report.suppressed_inline
            );
            print!("{cell:>22}");
            use std::io::Write as _;
            std::io::stdout().flush().ok();
        }
        println!();
    }
}
