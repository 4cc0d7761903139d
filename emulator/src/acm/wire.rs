//! AWS JSON 1.1 on the wire: `X-Amz-Target: CertificateManager.<Action>`, JSON bodies, the SigV4
//! scope `acm`, answers with `Content-Type: application/x-amz-json-1.1` and `x-amzn-RequestId`.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::error::AcmError;
use super::input::Input;
use super::{Action, execute};
use crate::auth::Refusals;
use crate::clock::Now;
use crate::protocol::{Call, FaultCodes, HttpRequest, Protocol, authenticate, aws_response};
use crate::state::World;
use crate::throttle::BucketClass;

/// The `X-Amz-Target` prefix of ACM.
const TARGET_PREFIX: &str = "CertificateManager.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The ACM protocol (marker for [`Protocol`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acm;

/// Whether a request is for ACM (by its `X-Amz-Target`) rather than EC2.
pub fn is_acm_request(headers: &HeaderMap) -> bool {
    target(headers).is_some_and(|t| t.starts_with(TARGET_PREFIX))
}

fn target(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-amz-target").and_then(|v| v.to_str().ok())
}

impl Protocol for Acm {
    type Action = Action;
    type Input = Input;

    fn identify(request: &HttpRequest<'_>) -> Result<Call<Self>, AcmError> {
        let caller = authenticate(request.headers, "acm", &Refusals::JSON)?;
        let name = target(request.headers)
            .and_then(|t| t.strip_prefix(TARGET_PREFIX))
            .unwrap_or_default();
        let action = Action::from_name(name).ok_or_else(|| {
            AcmError::new(
                "UnknownOperationException",
                format!("The operation {name} is not supported by this service."),
            )
        })?;
        let input = Input::parse(request.body)?;
        Ok(Call {
            caller,
            action,
            input,
        })
    }

    fn bucket_class(_: &Call<Self>) -> BucketClass {
        BucketClass::Acm
    }

    fn execute(world: &mut World, call: &Call<Self>, now: Now) -> Result<String, AcmError> {
        execute(world, call, now)
    }

    fn respond(_: Option<Action>, request_id: &str, result: Result<String, AcmError>) -> Response {
        match result {
            Ok(body) => json_response(StatusCode::OK, request_id, body),
            Err(err) => json_response(err.status(), request_id, err.to_json()),
        }
    }

    const FAULTS: FaultCodes = FaultCodes {
        throttled: ("ThrottlingException", "Rate exceeded"),
        internal: (
            &["InternalFailure"],
            "The request processing has failed because of an unknown error, exception or failure.",
        ),
    };
}

fn json_response(status: StatusCode, request_id: &str, body: String) -> Response {
    aws_response(status, request_id, CONTENT_TYPE, body)
}
