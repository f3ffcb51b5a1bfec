//! The shared vector table (tests/vectors.rs), as the KUnit suite runs it.

use ftp_parser_host::vectors::{check, check_truncations, VECTORS};

#[test]
fn every_vector() {
    let mut failures = Vec::new();
    for v in VECTORS {
        if let Err(why) = check(v) {
            failures.push(format!("{}: {why}", v.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors fail:\n{}",
        failures.len(),
        VECTORS.len(),
        failures.join("\n")
    );
    assert!(VECTORS.len() >= 150, "only {} vectors", VECTORS.len());
}

#[test]
fn every_truncation_is_partial() {
    let mut prefixes = 0;
    for v in VECTORS {
        prefixes += check_truncations(v).unwrap_or_else(|why| panic!("{}: {why}", v.name));
    }
    assert!(prefixes > 1000, "only {prefixes} prefixes checked");
}

#[test]
fn names_are_unique() {
    for (i, a) in VECTORS.iter().enumerate() {
        assert!(
            VECTORS[i + 1..].iter().all(|b| b.name != a.name),
            "duplicate name {}",
            a.name
        );
    }
}
