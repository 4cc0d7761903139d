//! What the controllers need from ACM (import, re-import, describe, find by tag, delete), as a
//! trait with SDK-free types, and its aws-sdk-acm implementation. Every HTTP attempt is paced,
//! counted and logged like EC2's (see `attempt`), with a pacer of its own: ACM's request quotas
//! are separate from EC2's.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_acm::Client;
use aws_sdk_acm::primitives::Blob;
use aws_sdk_acm::types::{Filters, KeyAlgorithm, Tag};

use super::attempt::{RegionalClients, instrumented_client};
use super::ec2::{call, call_unless_gone, every_item, missing};
use super::{CloudError, Operation, Pacer};
use crate::metrics::Metrics;

/// One `ImportCertificate`: a new import (`arn` none) or a re-import into `arn`.
#[derive(Clone, PartialEq, Eq)]
pub struct ImportCertificate {
    /// Re-import into this certificate (keeps the ARN, so the endpoint keeps using it).
    pub arn: Option<String>,
    /// Exactly one PEM certificate, the leaf.
    pub certificate_pem: String,
    /// Issuer first, then intermediates (and the CA).
    pub chain_pem: Option<String>,
    /// The leaf's private key, PEM.
    pub private_key_pem: String,
    /// Tags of a new import (ACM refuses tags on re-import).
    pub tags: BTreeMap<String, String>,
}

impl std::fmt::Debug for ImportCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportCertificate")
            .field("arn", &self.arn)
            .field("tags", &self.tags)
            .finish_non_exhaustive()
    }
}

/// An ACM certificate as `DescribeCertificate` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AcmCertificate {
    pub arn: String,
    /// Colon-separated hex, as ACM shows it.
    pub serial: Option<String>,
    /// Unix seconds.
    pub not_after: Option<i64>,
    /// e.g. `RSA-2048`.
    pub key_algorithm: Option<String>,
    /// ARNs of what uses it (Client VPN endpoints, load balancers).
    pub in_use_by: Vec<String>,
}

/// The ACM calls the controllers make; the production implementation is [`AcmCertificates`].
#[async_trait]
pub trait CertificateApi: Send + Sync {
    /// `ImportCertificate`; the certificate's ARN (the same one on re-import).
    async fn import_certificate(
        &self,
        region: &str,
        request: &ImportCertificate,
    ) -> Result<String, CloudError>;

    /// `DescribeCertificate`; `None` when ACM says it does not exist.
    async fn describe_certificate(
        &self,
        region: &str,
        arn: &str,
    ) -> Result<Option<AcmCertificate>, CloudError>;

    /// The certificates (RSA 1024/2048, the only ones Client VPN takes) whose domain is
    /// `domain` and that carry every tag in `tags`: `ListCertificates`, then
    /// `ListTagsForCertificate` for the candidates. For finding an import whose ARN was lost.
    async fn find_certificates(
        &self,
        region: &str,
        domain: Option<&str>,
        tags: &BTreeMap<String, String>,
    ) -> Result<Vec<String>, CloudError>;

    /// `DeleteCertificate`; Ok when it is already gone. `ResourceInUseException` (an endpoint
    /// still uses it) is retryable.
    async fn delete_certificate(&self, region: &str, arn: &str) -> Result<(), CloudError>;
}

/// [`CertificateApi`] over aws-sdk-acm, one client per region, configured from the shared
/// [`SdkConfig`] (`AWS_ENDPOINT_URL_ACM` / `AWS_ENDPOINT_URL` overrides included).
pub struct AcmCertificates {
    clients: RegionalClients<Client>,
}

impl AcmCertificates {
    /// ACM calls paced by `pacer` and counted in `metrics`.
    pub fn new(sdk: SdkConfig, pacer: Arc<Pacer>, metrics: Arc<Metrics>) -> Self {
        Self {
            clients: RegionalClients::new(sdk, pacer, metrics, instrumented_client!(aws_sdk_acm)),
        }
    }

    fn client(&self, region: &str) -> Client {
        self.clients.get(region)
    }
}

#[async_trait]
impl CertificateApi for AcmCertificates {
    async fn import_certificate(
        &self,
        region: &str,
        request: &ImportCertificate,
    ) -> Result<String, CloudError> {
        const OP: Operation = Operation::ImportCertificate;
        let tags = (request.arn.is_none() && !request.tags.is_empty()).then(|| {
            request
                .tags
                .iter()
                .map(|(key, value)| Tag::builder().key(key).value(value).build())
                .collect::<Result<Vec<_>, _>>()
        });
        let tags = tags
            .transpose()
            .map_err(|e| CloudError::transport(OP.name(), "InvalidTag", e.to_string()))?;
        let builder = self
            .client(region)
            .import_certificate()
            .set_certificate_arn(request.arn.clone())
            .certificate(Blob::new(request.certificate_pem.as_bytes()))
            .private_key(Blob::new(request.private_key_pem.as_bytes()))
            .set_certificate_chain(request.chain_pem.as_ref().map(|c| Blob::new(c.as_bytes())))
            .set_tags(tags);
        let out = call(OP, builder.send()).await?;
        out.certificate_arn()
            .map(str::to_string)
            .ok_or_else(|| missing(OP, "MissingCertificateArn", "a certificate ARN"))
    }

    async fn describe_certificate(
        &self,
        region: &str,
        arn: &str,
    ) -> Result<Option<AcmCertificate>, CloudError> {
        let request = self
            .client(region)
            .describe_certificate()
            .certificate_arn(arn)
            .send();
        let out = call_unless_gone(Operation::DescribeCertificate, request).await?;
        Ok(out
            .as_ref()
            .and_then(|out| out.certificate())
            .map(|c| AcmCertificate {
                arn: c.certificate_arn().unwrap_or(arn).to_string(),
                serial: c.serial().map(str::to_string),
                not_after: c.not_after().map(|t| t.secs()),
                key_algorithm: c.key_algorithm().map(|k| k.as_str().to_string()),
                in_use_by: c.in_use_by().to_vec(),
            }))
    }

    async fn find_certificates(
        &self,
        region: &str,
        domain: Option<&str>,
        tags: &BTreeMap<String, String>,
    ) -> Result<Vec<String>, CloudError> {
        let client = self.client(region);
        let filters = Filters::builder()
            .key_types(KeyAlgorithm::Rsa1024)
            .key_types(KeyAlgorithm::Rsa2048)
            .build();
        let items = client
            .list_certificates()
            .includes(filters)
            .max_items(1000)
            .into_paginator()
            .items()
            .send();
        let summaries = every_item(Operation::ListCertificates, items).await?;
        let mut found = Vec::new();
        for summary in summaries {
            let Some(arn) = summary.certificate_arn() else {
                continue;
            };
            if domain.is_some_and(|d| summary.domain_name() != Some(d)) {
                continue;
            }
            let request = client
                .list_tags_for_certificate()
                .certificate_arn(arn)
                .send();
            let Some(listed) = call_unless_gone(Operation::ListTagsForCertificate, request).await?
            else {
                continue;
            };
            let has = |key: &str, value: &str| {
                listed
                    .tags()
                    .iter()
                    .any(|t| t.key() == key && t.value() == Some(value))
            };
            if tags.iter().all(|(key, value)| has(key, value)) {
                found.push(arn.to_string());
            }
        }
        found.sort();
        Ok(found)
    }

    async fn delete_certificate(&self, region: &str, arn: &str) -> Result<(), CloudError> {
        let request = self
            .client(region)
            .delete_certificate()
            .certificate_arn(arn)
            .send();
        call_unless_gone(Operation::DeleteCertificate, request).await?;
        Ok(())
    }
}
