//! What a subcommand ends with when it does not succeed, and the exit code each kind gives (the `ecb --help` text
//! lists them).

use std::process::ExitCode;

/// A subcommand's failure.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The run, check or doctor found a failure (exit 1); the message names it (for a run: error name and cause).
    #[error("{0}")]
    Failed(String),
    /// Bad usage or input, before anything was started (exit 2); the message names the field and the rule.
    #[error("{0}")]
    Usage(String),
    /// The execution, backup or state machine named does not exist (exit 3).
    #[error("{0}")]
    NotFound(String),
    /// AWS refused the call or could not be reached (exit 4); the message names the call.
    #[error("{0}")]
    Aws(String),
    /// A Redis / Valkey server (`ecb restore-keys --to`, `ecb diff BACKUP redis[s]://…`) could not be reached,
    /// refused AUTH or a command needed to discover or read it (exit 4, as AWS); the message names host:port, never
    /// the password.
    #[error("{0}")]
    Unreachable(String),
    /// Ctrl-C while watching (exit 130): the execution keeps running.
    #[error("{0}")]
    Interrupted(String),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Self::Failed(_) => 1,
            Self::Usage(_) => 2,
            Self::NotFound(_) => 3,
            Self::Aws(_) | Self::Unreachable(_) => 4,
            Self::Interrupted(_) => 130,
        })
    }

    /// An AWS SDK error of `call`, with the service's code and message (`DisplayErrorContext`), as `NotFound` when
    /// `not_found` says its code means the thing is missing, else `Aws`.
    pub fn aws<E>(call: &str, err: E, not_found: &[&str]) -> Self
    where
        E: std::error::Error + aws_smithy_types::error::metadata::ProvideErrorMetadata + 'static,
    {
        let code = err.code().map(str::to_string);
        let text = format!(
            "{call}: {}",
            aws_smithy_types::error::display::DisplayErrorContext(&err)
        );
        match code {
            Some(c) if not_found.contains(&c.as_str()) => Self::NotFound(text),
            _ => Self::Aws(text),
        }
    }
}

/// A subcommand's result.
pub type CliResult<T = ()> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_exit_code() {
        let codes = [
            CliError::Failed(String::new()).exit_code(),
            CliError::Usage(String::new()).exit_code(),
            CliError::NotFound(String::new()).exit_code(),
            CliError::Aws(String::new()).exit_code(),
            CliError::Unreachable(String::new()).exit_code(),
            CliError::Interrupted(String::new()).exit_code(),
        ];
        let expected = [1u8, 2, 3, 4, 4, 130].map(ExitCode::from);
        assert_eq!(codes, expected);
    }
}
