//! `.tollgate.yaml`. Asserts: a file is either an error naming a line inside the file
//! (lines as YAML counts them: a lone CR ends one too), or a config whose filters build
//! (they `expect` what parsing checked) and answer for any path and secret; checking
//! rule ids passes when every id is known.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tollgate::config::RepoConfig;

const PATHS: &[&str] = &[
    "",
    "a",
    ".env",
    "docs/readme.md",
    "vendor/x/y.go",
    "deploy/prod/secret.yaml",
    "a/b/c/d/e/f.txt",
    "/abs",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let config = match RepoConfig::parse(Path::new("repo/.tollgate.yaml"), text) {
        Ok(config) => config,
        Err(e) => {
            // YAML counts a lone CR as a line break too (YAML 1.2, 5.4).
            let lines = text.replace("\r\n", "\n").split(['\n', '\r']).count();
            // An error at the end of the input may name the line after the last one (the
            // parser's end-of-stream mark): see tests/fuzz_regressions.rs.
            assert!(
                e.line <= lines + 1,
                "error on line {} of {lines}: {e}",
                e.line
            );
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let filters = config.filters();
    for path in PATHS {
        filters.skips_path(path);
    }
    for secret in [&b""[..], b"hunter2", data] {
        filters.allows_secret("generic.password", secret);
        let _ = filters.min_entropy("generic.password");
    }
    assert!(
        config.check_rule_ids(&|_| true).is_ok(),
        "every id is known"
    );
    let _ = config.check_rule_ids(&|_| false);
});
