//! Errors of one user reconcile, each named for the step that failed.

use super::record::Damaged;
use crate::certificates::IssueError;
use crate::cloud::{CloudError, ErrorKind};
use crate::runtime::ReconcileError;

/// A failed step.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] CloudError),
    /// A Kubernetes read or write failed; the text names it.
    #[error("{0} failed")]
    Kube(&'static str, #[source] kube::Error),
    /// Issuing a client certificate failed.
    #[error("issuing the client certificate failed")]
    Issue(#[source] IssueError),
    /// A certificate just issued does not read back.
    #[error("a client certificate the CA issued does not read back: {0}")]
    Issued(String),
    /// The revocation record cannot be read.
    #[error(transparent)]
    Record(#[from] Damaged),
    /// The object lacks a field the API server always sets.
    #[error("object has no {0}")]
    MissingMetadata(&'static str),
}

impl Error {
    /// Terminal errors stall until the spec changes; the rest retry with backoff.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Aws(err) => err.kind,
            Self::Record(_) | Self::MissingMetadata(_) => ErrorKind::Terminal,
            Self::Kube(..) | Self::Issue(_) | Self::Issued(_) => ErrorKind::Retryable,
        }
    }
}

impl ReconcileError for Error {
    fn category(&self) -> &'static str {
        match self {
            Self::Aws(err) => err.kind.category(),
            Self::Kube(..) => "KubernetesApi",
            Self::Issue(_) | Self::Issued(_) => "IssueCertificate",
            Self::Record(_) => "RevocationRecordDamaged",
            Self::MissingMetadata(_) => "MissingMetadata",
        }
    }

    fn report(&self) -> String {
        let aws = match self {
            Self::Aws(err) => Some(err),
            _ => None,
        };
        crate::runtime::report_chain(self, aws)
    }
}
