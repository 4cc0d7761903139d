//! Client access on an endpoint: its certificate revocation list and its client connections
//! (`Import`/`ExportClientVpnClientCertificateRevocationList`, `Describe`/
//! `TerminateClientVpnConnections`), implemented by [`Ec2ClientVpn`] over the same paced,
//! counted SDK clients as every other EC2 call.

use async_trait::async_trait;

use super::ec2::{MAX_PAGE, call, every_item};
use super::{CloudError, Ec2ClientVpn, Operation};

/// The CRL AWS holds for an endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportedCrl {
    /// The list as PEM; none before the first import.
    pub pem: Option<String>,
    /// `pending` (accepted, not yet applied) or `active`.
    pub status: Option<String>,
}

/// CRL export status once AWS applies the list.
pub const CRL_ACTIVE: &str = "active";
/// Connection status of a live session.
pub const CONNECTION_ACTIVE: &str = "active";

/// One client session, as `DescribeClientVpnConnections` lists it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Connection {
    pub connection_id: String,
    /// The client certificate's CN (the identity with mutual authentication).
    pub common_name: Option<String>,
    pub client_ip: Option<String>,
    /// `active`, `terminating`, `terminated` or `failed-to-terminate`.
    pub status: Option<String>,
    /// As AWS writes it: `2019-08-12 07:58:34` (UTC).
    pub established: Option<String>,
}

impl Connection {
    pub fn is_active(&self) -> bool {
        self.status.as_deref() == Some(CONNECTION_ACTIVE)
    }
}

/// Revocation lists and connections of an endpoint.
#[async_trait]
pub trait ClientAccessApi: Send + Sync {
    /// Replace the endpoint's CRL (resets the endpoint's sessions).
    async fn import_crl(&self, region: &str, id: &str, pem: &str) -> Result<(), CloudError>;
    /// The endpoint's CRL and whether it is applied.
    async fn export_crl(&self, region: &str, id: &str) -> Result<ExportedCrl, CloudError>;
    /// Every connection AWS lists (active, and terminated within the last hour), all pages.
    async fn describe_connections(
        &self,
        region: &str,
        id: &str,
    ) -> Result<Vec<Connection>, CloudError>;
    /// Terminate one session.
    async fn terminate_connection(
        &self,
        region: &str,
        id: &str,
        connection_id: &str,
    ) -> Result<(), CloudError>;
}

#[async_trait]
impl ClientAccessApi for Ec2ClientVpn {
    async fn import_crl(&self, region: &str, id: &str, pem: &str) -> Result<(), CloudError> {
        let request = self
            .client(region)
            .import_client_vpn_client_certificate_revocation_list()
            .client_vpn_endpoint_id(id)
            .certificate_revocation_list(pem)
            .send();
        call(
            Operation::ImportClientVpnClientCertificateRevocationList,
            request,
        )
        .await?;
        Ok(())
    }

    async fn export_crl(&self, region: &str, id: &str) -> Result<ExportedCrl, CloudError> {
        let request = self
            .client(region)
            .export_client_vpn_client_certificate_revocation_list()
            .client_vpn_endpoint_id(id)
            .send();
        let out = call(
            Operation::ExportClientVpnClientCertificateRevocationList,
            request,
        )
        .await?;
        Ok(ExportedCrl {
            pem: out
                .certificate_revocation_list()
                .filter(|p| !p.is_empty())
                .map(str::to_string),
            status: out
                .status()
                .and_then(|s| s.code())
                .map(|c| c.as_str().to_string()),
        })
    }

    async fn describe_connections(
        &self,
        region: &str,
        id: &str,
    ) -> Result<Vec<Connection>, CloudError> {
        let items = self
            .client(region)
            .describe_client_vpn_connections()
            .client_vpn_endpoint_id(id)
            .max_results(MAX_PAGE)
            .into_paginator()
            .items()
            .send();
        let connections = every_item(Operation::DescribeClientVpnConnections, items).await?;
        Ok(connections
            .iter()
            .map(|c| Connection {
                connection_id: c.connection_id().unwrap_or_default().to_string(),
                common_name: c.common_name().map(str::to_string),
                client_ip: c.client_ip().map(str::to_string),
                status: c
                    .status()
                    .and_then(|s| s.code())
                    .map(|code| code.as_str().to_string()),
                established: c.connection_established_time().map(str::to_string),
            })
            .collect())
    }

    async fn terminate_connection(
        &self,
        region: &str,
        id: &str,
        connection_id: &str,
    ) -> Result<(), CloudError> {
        let request = self
            .client(region)
            .terminate_client_vpn_connections()
            .client_vpn_endpoint_id(id)
            .connection_id(connection_id)
            .send();
        call(Operation::TerminateClientVpnConnections, request).await?;
        Ok(())
    }
}
