//! [`Secrets`] over `aws_sdk_secretsmanager` (`secretsmanager:GetSecretValue`): alert sinks' URLs and keys (notify),
//! restored groups' AUTH tokens (restore). A value is never logged, and no error carries it.

use async_trait::async_trait;

use backup_core::ports::Secrets;

/// Secrets Manager adapter. Build once per cold start from the shared `SdkConfig`.
#[derive(Debug, Clone)]
pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsManager {
    /// Wraps a Secrets Manager client.
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Secrets for SecretsManager {
    #[tracing::instrument(skip(self))]
    async fn secret_string(&self, arn: &str) -> Result<String, String> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string())?;
        out.secret_string()
            .map(str::to_string)
            .ok_or_else(|| "the secret has no SecretString".into())
    }
}
