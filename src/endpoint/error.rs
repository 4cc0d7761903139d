//! Errors of one reconcile, each named for the step that failed.

use crate::cloud::{CloudError, ErrorKind, Quota};
use crate::runtime::ReconcileError;

/// A failed reconcile step.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] CloudError),

    /// No region in the spec and none configured for the operator.
    #[error("no AWS region: set spec.region, or give the operator AWS_REGION / --region")]
    MissingRegion,

    /// Adding the finalizer failed.
    #[error("adding the finalizer failed")]
    AddFinalizer(#[source] kube::Error),

    /// Removing the finalizer failed.
    #[error("removing the finalizer failed")]
    RemoveFinalizer(#[source] kube::Error),

    /// Writing status failed.
    #[error("writing status failed")]
    PatchStatus(#[source] kube::Error),

    /// Reading the client-configuration ConfigMap failed.
    #[error("reading the client-configuration ConfigMap failed")]
    ReadConfigMap(#[source] kube::Error),

    /// Writing the client-configuration ConfigMap failed.
    #[error("writing the client-configuration ConfigMap failed")]
    WriteConfigMap(#[source] kube::Error),

    /// Reading a certificate Secret failed.
    #[error("reading a certificate Secret failed")]
    ReadSecret(#[source] kube::Error),

    /// Writing a managed certificate Secret failed.
    #[error("writing a managed certificate Secret failed")]
    WriteSecret(#[source] kube::Error),

    /// The managed CA could not issue a certificate.
    #[error("the managed CA could not issue a certificate")]
    Issue(#[source] crate::certificates::IssueError),

    /// A certificate the managed CA just issued does not read back.
    #[error("a certificate the managed CA issued does not read back: {0}")]
    Issued(String),

    /// The object lacks a field the API server always sets.
    #[error("object has no {0}")]
    MissingMetadata(&'static str),
}

impl Error {
    /// The AWS quota this failure hit, if it is a quota refusal.
    pub fn quota(&self) -> Option<&'static Quota> {
        match self {
            Self::Aws(err) => err.quota(),
            _ => None,
        }
    }

    /// How the controller treats the error: terminal ones stall until the spec changes.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Aws(err) => err.kind,
            Self::MissingRegion | Self::MissingMetadata(_) => ErrorKind::Terminal,
            Self::AddFinalizer(_)
            | Self::RemoveFinalizer(_)
            | Self::PatchStatus(_)
            | Self::ReadConfigMap(_)
            | Self::WriteConfigMap(_)
            | Self::ReadSecret(_)
            | Self::WriteSecret(_)
            | Self::Issue(_)
            | Self::Issued(_) => ErrorKind::Retryable,
        }
    }
}

impl ReconcileError for Error {
    /// Bounded label for metrics and the Warning event's reason.
    fn category(&self) -> &'static str {
        match self {
            Self::Aws(err) => err.kind.category(),
            Self::MissingRegion => "MissingRegion",
            Self::AddFinalizer(_) => "AddFinalizer",
            Self::RemoveFinalizer(_) => "RemoveFinalizer",
            Self::PatchStatus(_) => "PatchStatus",
            Self::ReadConfigMap(_) => "ReadConfigMap",
            Self::WriteConfigMap(_) => "WriteConfigMap",
            Self::MissingMetadata(_) => "MissingMetadata",
            Self::ReadSecret(_) => "ReadSecret",
            Self::WriteSecret(_) => "WriteSecret",
            Self::Issue(_) | Self::Issued(_) => "IssueCertificate",
        }
    }

    /// The whole chain of causes, once, for events and conditions; with AWS's request ID.
    fn report(&self) -> String {
        let aws = match self {
            Self::Aws(err) => Some(err),
            _ => None,
        };
        crate::runtime::report_chain(self, aws)
    }
}
