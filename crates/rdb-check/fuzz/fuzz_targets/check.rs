//! Any input: the checker returns a report or a typed error; it never panics and never allocates more than its
//! limit for a single encoded value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdb_check::{Limits, check_with};

fuzz_target!(|data: &[u8]| {
    let _ = check_with(
        data,
        Limits {
            max_encoded_value_bytes: 1 << 20,
            ..Limits::default()
        },
    );
});
