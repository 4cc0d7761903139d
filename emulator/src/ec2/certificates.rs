//! The certificates an endpoint names (server certificate, client root chain) must exist in the
//! emulated ACM of the same account and region, unless `permissive_certificates` is set.

use super::Ctx;
use super::error::Ec2Error;
use crate::state::{Certificate, Region};

/// Which role a certificate plays on the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `ServerCertificateArn`: must also name a domain.
    Server,
    /// `ClientRootCertificateChainArn`.
    ClientRoot,
}

/// `InvalidParameterValue` unless `arn` is an imported certificate of this account and region
/// (and, for the server certificate, one with a domain). Any ARN passes when permissive.
pub fn check(ctx: &Ctx<'_>, region: &Region, arn: &str, role: Role) -> Result<(), Ec2Error> {
    if ctx.settings.permissive_certificates {
        return Ok(());
    }
    let Some(certificate) = region.certificates.get(arn) else {
        return Err(Ec2Error::invalid(format!(
            "Certificate {arn} does not exist"
        )));
    };
    if role == Role::Server && certificate.details.domain_name.is_none() {
        return Err(Ec2Error::invalid(format!(
            "Certificate {arn} does not have a domain"
        )));
    }
    Ok(())
}

/// The imported certificate behind `arn`, if any (for the exported configuration).
pub fn imported<'r>(region: &'r Region, arn: &str) -> Option<&'r Certificate> {
    region.certificates.get(arn)
}
