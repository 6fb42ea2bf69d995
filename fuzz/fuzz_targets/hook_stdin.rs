//! The pre-receive hook's stdin (`<old> <new> <ref>` lines). Asserts: input is either
//! an error naming a line of it, or one update per non-blank line, each with two object
//! ids of the same hash length (40 or 64 hex digits) and a ref name without whitespace;
//! the updates written back as lines parse to the same updates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::hook::parse_updates;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let updates = match parse_updates(input) {
        Ok(updates) => updates,
        Err(message) => {
            let line: usize = message
                .strip_prefix("line ")
                .and_then(|rest| rest.split(':').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("the error names no line: {message}"));
            assert!(
                (1..=input.lines().count()).contains(&line),
                "the error names line {line} of {}",
                input.lines().count()
            );
            return;
        }
    };
    let non_blank = input.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(updates.len(), non_blank, "one update per non-blank line");
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    for u in &updates {
        assert!(u.old.len() == 40 || u.old.len() == 64, "{u:?}");
        assert_eq!(u.old.len(), u.new.len(), "{u:?}");
        assert!(hex(&u.old) && hex(&u.new), "{u:?}");
        assert!(
            !u.name.is_empty() && !u.name.chars().any(char::is_whitespace),
            "{u:?}"
        );
    }
    let written: String = updates
        .iter()
        .map(|u| format!("{} {} {}\n", u.old, u.new, u.name))
        .collect();
    assert_eq!(parse_updates(&written).as_ref(), Ok(&updates), "round trip");
});
