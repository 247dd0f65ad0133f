//! The start-up every Lambda's `main.rs` calls ([`serve`]): tracing, the function's configuration
//! (`backup_core::Config` from the environment), the AWS SDK configuration, the adapters the step uses, and the
//! runtime loop that hands each event to the handler and turns its error into the Lambda error Step Functions
//! matches (`errorType` = the stable error name, `errorMessage` cut to
//! `backup_core::error::MAX_LAMBDA_ERROR_MESSAGE_BYTES`).
//!
//! A `main.rs` is then one expression:
//!
//! ```ignore
//! aws_adapters::start::serve(async |aws| Ok(aws.deps().with_snapshots(aws.elasticache())), handler::function_handler).await
//! ```

use std::future::Future;

use backup_core::{BackupError, Config, Deps, SystemClock};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The error a start-up or an invocation ends with (`lambda_runtime::Error`, a boxed error).
pub type Error = lambda_runtime::Error;

/// A handler's error as the Lambda error Step Functions sees (`errorType`, `errorMessage`).
pub trait IntoDiagnostic {
    /// The Lambda error.
    fn into_diagnostic(self) -> Diagnostic;
}

impl IntoDiagnostic for BackupError {
    /// The stable name ([`BackupError::error_type`]) and the cut message ([`BackupError::lambda_error_message`]).
    fn into_diagnostic(self) -> Diagnostic {
        Diagnostic {
            error_type: self.error_type().to_string(),
            error_message: self.lambda_error_message(),
        }
    }
}

/// What a `main.rs` builds its dependencies from: the function's configuration and the AWS SDK configuration.
#[derive(Debug, Clone)]
pub struct Aws {
    sdk: aws_config::SdkConfig,
    config: Config,
}

impl Aws {
    /// The function's configuration (`backup_core::Config`, read from the environment at cold start).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The AWS SDK configuration (region and credentials from the Lambda environment).
    pub fn sdk(&self) -> &aws_config::SdkConfig {
        &self.sdk
    }

    /// Dependencies with no port yet, the system clock and the configuration; add the step's ports with
    /// `with_snapshots`, `with_exports`, …
    pub fn deps(&self) -> Deps<(), (), (), SystemClock> {
        Deps::new(self.config.clone())
    }

    /// ElastiCache ([`crate::ElastiCacheSnapshots`]).
    #[cfg(feature = "elasticache")]
    pub fn elasticache(&self) -> crate::ElastiCacheSnapshots {
        crate::ElastiCacheSnapshots::new(aws_sdk_elasticache::Client::new(&self.sdk))
    }

    /// The export bucket and the other S3 ports ([`crate::S3ExportStore`]).
    #[cfg(feature = "s3")]
    pub fn s3(&self) -> crate::S3ExportStore {
        crate::S3ExportStore::new(aws_sdk_s3::Client::new(&self.sdk))
    }

    /// S3 Batch Operations ([`crate::S3BatchJobs`]): the vault's Batch Replication jobs.
    #[cfg(feature = "s3control")]
    pub fn batch_jobs(&self) -> crate::S3BatchJobs {
        crate::S3BatchJobs::new(aws_sdk_s3control::Client::new(&self.sdk))
    }

    /// Secrets Manager ([`crate::SecretsManager`]).
    #[cfg(feature = "secrets")]
    pub fn secrets(&self) -> crate::SecretsManager {
        crate::SecretsManager::new(aws_sdk_secretsmanager::Client::new(&self.sdk))
    }

    /// Step Functions execution histories ([`crate::SfnHistory`]).
    #[cfg(feature = "sfn")]
    pub fn history(&self) -> crate::SfnHistory {
        crate::SfnHistory::new(aws_sdk_sfn::Client::new(&self.sdk))
    }

    /// Step Functions executions of a state machine ([`crate::SfnExecutions`]), for the evidence report.
    #[cfg(feature = "sfn")]
    pub fn executions(&self) -> crate::SfnExecutions {
        crate::SfnExecutions::new(aws_sdk_sfn::Client::new(&self.sdk))
    }

    /// The RDB verifier over S3 ([`crate::S3RdbVerifier`]), with the configured part size and parallelism.
    #[cfg(feature = "verify")]
    pub fn verifier(&self) -> crate::S3RdbVerifier {
        crate::S3RdbVerifier::new(aws_sdk_s3::Client::new(&self.sdk)).with_config(&self.config)
    }

    /// The Redis-protocol probe ([`crate::RedisProbe`]).
    #[cfg(feature = "probe")]
    pub fn probe(&self) -> crate::RedisProbe {
        crate::RedisProbe
    }
}

/// How a function starts: [`Start::default`] for most; [`Start::app_name`] marks the function's AWS calls.
#[derive(Debug, Clone, Copy, Default)]
pub struct Start {
    app_name: Option<&'static str>,
}

impl Start {
    /// The SDK app name of this function's AWS calls (User-Agent `app/<name>`), e.g. so the sweeper's
    /// `DeleteSnapshot` calls can be told apart in CloudTrail.
    pub fn app_name(name: &'static str) -> Self {
        Self {
            app_name: Some(name),
        }
    }

    /// Starts the function: see [`serve`].
    ///
    /// # Errors
    /// An invalid configuration (the variable and its rule) or an invalid app name, before the first event; the
    /// runtime's own errors after.
    pub async fn serve<D, T, R, Err, W, F, Fut>(self, wire: W, handler: F) -> Result<(), Error>
    where
        W: AsyncFnOnce(&Aws) -> Result<D, Error>,
        D: Send + Sync + 'static,
        T: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        Err: IntoDiagnostic,
        F: Fn(LambdaEvent<T>, &'static D) -> Fut,
        Fut: Future<Output = Result<R, Err>>,
    {
        lambda_runtime::tracing::init_default_subscriber();
        let config =
            Config::from_env().map_err(|e| format!("invalid function configuration: {e}"))?;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(name) = self.app_name {
            loader = loader.app_name(aws_config::AppName::new(name)?);
        }
        let aws = Aws {
            sdk: loader.load().await,
            config,
        };
        // The dependencies live as long as the process: one cold start builds them, every invocation borrows them.
        let deps: &'static D = Box::leak(Box::new(wire(&aws).await?));
        let handler = &handler;
        lambda_runtime::run(service_fn(move |event: LambdaEvent<T>| async move {
            handler(event, deps)
                .await
                .map_err(IntoDiagnostic::into_diagnostic)
        }))
        .await
    }
}

/// Starts a Lambda function: initialises tracing, reads `backup_core::Config` from the environment (an invalid
/// value ends the start with an error naming the variable, never a panic), loads the AWS SDK configuration, builds
/// the dependencies with `wire` once, then runs `handler` on every event, turning its error into the Lambda error.
///
/// # Errors
/// See [`Start::serve`].
pub async fn serve<D, T, R, Err, W, F, Fut>(wire: W, handler: F) -> Result<(), Error>
where
    W: AsyncFnOnce(&Aws) -> Result<D, Error>,
    D: Send + Sync + 'static,
    T: DeserializeOwned + Send + 'static,
    R: Serialize + Send + 'static,
    Err: IntoDiagnostic,
    F: Fn(LambdaEvent<T>, &'static D) -> Fut,
    Fut: Future<Output = Result<R, Err>>,
{
    Start::default().serve(wire, handler).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_error_becomes_its_name_and_its_cut_message() {
        let d = BackupError::invalid_input("bucket", "must be 3-63 characters").into_diagnostic();
        assert_eq!(d.error_type, "InvalidInput");
        assert_eq!(
            d.error_message,
            "invalid input: `bucket` must be 3-63 characters"
        );
        let long = BackupError::ExportRejected {
            message: "é".repeat(5000),
            source: None,
        }
        .into_diagnostic();
        assert!(long.error_message.len() <= backup_core::error::MAX_LAMBDA_ERROR_MESSAGE_BYTES);
        assert!(long.error_message.ends_with('…'));
    }
}
