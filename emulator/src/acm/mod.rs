//! The ACM protocol layer: AWS JSON 1.1 (`X-Amz-Target: CertificateManager.<Action>`, JSON
//! bodies with base64 blobs, `__type` errors) and the certificate actions the operator needs:
//! import (and re-import), describe, get, list, delete, and tags.

mod certificates;
pub mod error;
mod input;
mod listing;
mod tags;
mod wire;
pub mod x509;

pub use error::AcmError;
pub use wire::{Acm, is_acm_request};

use crate::clock::Now;
use crate::config::Limits;
use crate::ids::Rng;
use crate::protocol::Call;
use crate::state::{Certificate, Region, World};
use input::Input;

macro_rules! actions {
    ($($name:ident => $module:ident::$handler:ident),+ $(,)?) => {
        crate::protocol::action_enum! {
            /// An ACM action the emulator implements.
            $($name),+
        }

        impl Action {
            fn run(self, ctx: &mut Ctx<'_>, region: &mut Region, input: &Input) -> Result<String, AcmError> {
                match self {
                    $(Action::$name => $module::$handler(ctx, region, input)),+
                }
            }
        }
    };
}

actions! {
    ImportCertificate => certificates::import,
    DescribeCertificate => certificates::describe,
    GetCertificate => certificates::get,
    ListCertificates => listing::list,
    DeleteCertificate => certificates::delete,
    AddTagsToCertificate => tags::add,
    RemoveTagsFromCertificate => tags::remove,
    ListTagsForCertificate => tags::list,
}

/// What a handler knows about the request besides its input.
pub struct Ctx<'a> {
    pub account_id: &'a str,
    pub region_name: &'a str,
    pub now: Now,
    pub limits: Limits,
    pub rng: &'a mut Rng,
}

/// Runs one action against the caller's region; returns the JSON response body.
pub fn execute(world: &mut World, call: &Call<Acm>, now: Now) -> Result<String, AcmError> {
    let caller = &call.caller;
    let limits = world.limits;
    let (region, rng) = world.caller_region(caller, &now);
    let mut ctx = Ctx {
        account_id: &caller.account_id,
        region_name: &caller.region,
        now,
        limits,
        rng,
    };
    call.action.run(&mut ctx, region, &call.input)
}

/// The certificate named by the required `CertificateArn`: `InvalidArnException` if it is not
/// an ACM certificate ARN, `ResourceNotFoundException` if this account and region have no such
/// certificate.
fn certificate_arn(input: &Input) -> Result<&str, AcmError> {
    let arn = input.required_string("CertificateArn")?;
    check_arn(arn)?;
    Ok(arn)
}

/// Length 20–2048 (the model), then the ACM certificate ARN shape
/// `arn:<partition>:acm:<region>:<12 digits>:certificate/<id>`.
fn check_arn(arn: &str) -> Result<(), AcmError> {
    let len = arn.chars().count();
    if len < 20 {
        return Err(AcmError::validation(
            "CertificateArn",
            Some(arn),
            "Member must have length greater than or equal to 20",
        ));
    }
    if len > 2048 {
        return Err(AcmError::validation(
            "CertificateArn",
            Some(arn),
            "Member must have length less than or equal to 2048",
        ));
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let well_formed = matches!(
        parts.as_slice(),
        ["arn", partition, "acm", region, account, resource]
            if !partition.is_empty()
                && !region.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("certificate/").is_some_and(|id| !id.is_empty() && !id.contains('/'))
    );
    if well_formed {
        Ok(())
    } else {
        Err(AcmError::invalid_arn(arn))
    }
}

fn find<'r>(region: &'r Region, arn: &str) -> Result<&'r Certificate, AcmError> {
    region
        .certificates
        .get(arn)
        .ok_or_else(|| AcmError::not_found(arn))
}

fn find_mut<'r>(region: &'r mut Region, arn: &str) -> Result<&'r mut Certificate, AcmError> {
    region
        .certificates
        .get_mut(arn)
        .ok_or_else(|| AcmError::not_found(arn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_shapes() {
        let ok =
            "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
        assert!(check_arn(ok).is_ok());
        for (arn, code) in [
            ("short", "ValidationException"),
            (
                "arn:aws:ec2:us-east-1:123456789012:certificate/x",
                "InvalidArnException",
            ),
            (
                "arn:aws:acm:us-east-1:1234:certificate/x",
                "InvalidArnException",
            ),
            (
                "arn:aws:acm:us-east-1:123456789012:key/xyz",
                "InvalidArnException",
            ),
            ("not-an-arn-but-long-enough", "InvalidArnException"),
        ] {
            assert_eq!(check_arn(arn).unwrap_err().code(), code, "{arn}");
        }
    }
}
