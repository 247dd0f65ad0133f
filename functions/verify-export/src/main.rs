//! `verify-export`: streams each exported `.rdb` from S3 through the RDB checker and writes the manifest.
//!
//! Environment (optional): `VERIFY_PART_MIB` (bytes per ranged GetObject, MiB, 1–1024, default 8) and
//! `VERIFY_PARALLEL_PARTS` (requests in flight, 1–64, default 4). Memory use is about their product.

use backup_core::SystemClock;
use backup_core::aws::S3ExportStore;
use lambda_runtime::{Error, run, service_fn, tracing};
use rdb_check::s3::RangeOptions;

mod handler;
use handler::{Deps, function_handler};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let ranges = RangeOptions {
        part_bytes: env_number("VERIFY_PART_MIB", 8, 1..=1024)? * 1024 * 1024,
        parallel: env_number("VERIFY_PARALLEL_PARTS", 4, 1..=64)? as usize,
    };
    let deps = Deps {
        exports: S3ExportStore::new(aws_sdk_s3::Client::new(&sdk)).with_range_options(ranges),
        clock: SystemClock,
    };
    run(service_fn(|event| function_handler(event, &deps))).await
}

/// An optional numeric environment variable within `range` (`default` when unset).
fn env_number(
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, Error> {
    let Ok(text) = std::env::var(name) else {
        return Ok(default);
    };
    match text.trim().parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(format!(
            "{name}={text:?}: must be a whole number from {} to {}",
            range.start(),
            range.end()
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::env_number;

    #[test]
    fn range_settings_are_checked_at_cold_start() {
        // Distinct names: tests run in parallel and share the environment.
        assert_eq!(env_number("ECB_TEST_UNSET", 8, 1..=1024).unwrap(), 8);
        // SAFETY: only this test touches these variables.
        unsafe {
            std::env::set_var("ECB_TEST_GOOD", " 16 ");
            std::env::set_var("ECB_TEST_ZERO", "0");
            std::env::set_var("ECB_TEST_TEXT", "8MiB");
        }
        assert_eq!(env_number("ECB_TEST_GOOD", 8, 1..=1024).unwrap(), 16);
        for name in ["ECB_TEST_ZERO", "ECB_TEST_TEXT"] {
            let err = env_number(name, 8, 1..=1024).unwrap_err().to_string();
            assert!(
                err.starts_with(name) && err.contains("from 1 to 1024"),
                "{err}"
            );
        }
    }
}
