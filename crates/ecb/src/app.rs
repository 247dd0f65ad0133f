//! [`App`]: the AWS configuration and the deployment every subcommand works with.

use crate::cli::{Global, Machine};
use crate::deployment::Deployment;
use crate::error::CliResult;

/// What every subcommand works with.
pub struct App {
    /// The global flags.
    pub global: Global,
    /// The AWS SDK configuration (`--region`, `--profile`, the usual sources).
    pub sdk: aws_config::SdkConfig,
    /// The deployment's names.
    pub deployment: Deployment,
}

impl App {
    /// The AWS configuration and the deployment `global` names.
    ///
    /// # Errors
    /// `Usage` when the Terraform outputs cannot be read.
    pub async fn new(global: Global) -> CliResult<Self> {
        let deployment = Deployment::resolve(&global)?;
        Ok(Self {
            sdk: sdk_config(&global).await,
            global,
            deployment,
        })
    }

    /// A Step Functions client.
    pub fn sfn(&self) -> aws_sdk_sfn::Client {
        aws_sdk_sfn::Client::new(&self.sdk)
    }

    /// An S3 client.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::new(&self.sdk)
    }

    /// An ElastiCache client.
    pub fn elasticache(&self) -> aws_sdk_elasticache::Client {
        aws_sdk_elasticache::Client::new(&self.sdk)
    }

    /// The known state machines and their ARNs.
    pub fn machines(&self) -> Vec<(Machine, String)> {
        self.deployment
            .machines
            .iter()
            .map(|(m, a)| (*m, a.clone()))
            .collect()
    }
}

/// The AWS SDK configuration `--region` and `--profile` name, over the usual sources (environment, profile, role).
pub async fn sdk_config(global: &Global) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = &global.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(profile) = &global.profile {
        loader = loader.profile_name(profile);
    }
    loader.load().await
}
