// SPDX-License-Identifier: GPL-2.0

//! The parser's vector table (tests/vectors.rs) run in the kernel: the same cases the host
//! tests run, on the kernel's build of parser.rs.

use kernel::prelude::kunit_tests;

#[kunit_tests(nf_conntrack_ftp_rs_parser)]
mod parser_tests {
    use crate::vectors::{check, check_truncations, VECTORS};
    use kernel::prelude::*;

    #[test]
    fn vector_table() {
        let mut failed = 0;
        for v in VECTORS {
            if let Err(why) = check(v) {
                pr_err!("vector '{}': {}\n", v.name, why);
                failed += 1;
            }
        }
        pr_info!("parser: {} vectors, {} failed\n", VECTORS.len(), failed);
        assert_eq!(failed, 0);
        assert!(VECTORS.len() >= 150);
    }

    #[test]
    fn truncated_commands_are_partial() {
        let mut failed = 0;
        let mut prefixes = 0;
        for v in VECTORS {
            match check_truncations(v) {
                Ok(n) => prefixes += n,
                Err(why) => {
                    pr_err!("vector '{}': {}\n", v.name, why);
                    failed += 1;
                }
            }
        }
        pr_info!(
            "parser: {} truncated commands, {} failed\n",
            prefixes,
            failed
        );
        assert_eq!(failed, 0);
        assert!(prefixes > 1000);
    }
}
