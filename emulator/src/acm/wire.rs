//! AWS JSON 1.1 on the wire: `X-Amz-Target: CertificateManager.<Action>`, JSON bodies, the SigV4
//! scope `acm`, answers with `Content-Type: application/x-amz-json-1.1` and `x-amzn-RequestId`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::AcmError;
use super::input::Input;
use super::{Action, execute};
use crate::auth::{self, AuthError, Caller};
use crate::clock::Now;
use crate::protocol::{HttpRequest, Protocol};
use crate::state::World;

/// The `X-Amz-Target` prefix of ACM.
const TARGET_PREFIX: &str = "CertificateManager.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Whether a request is for ACM (by its `X-Amz-Target`) rather than EC2.
pub fn is_acm_request(headers: &HeaderMap) -> bool {
    target(headers).is_some_and(|t| t.starts_with(TARGET_PREFIX))
}

fn target(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-amz-target").and_then(|v| v.to_str().ok())
}

/// The ACM protocol (marker for [`Protocol`]).
#[derive(Debug, Clone, Copy)]
pub struct Acm;

impl Protocol for Acm {
    type Action = Action;
    type Input = Input;
    type Error = AcmError;

    fn identify(request: &HttpRequest<'_>) -> Result<(Caller, Action, Input), AcmError> {
        let caller = auth::caller(request.headers, "acm").map_err(auth_error)?;
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
        Ok((caller, action, input))
    }

    fn action_name(action: Action) -> &'static str {
        action.name()
    }

    fn execute(
        world: &mut World,
        caller: &Caller,
        action: Action,
        input: &Input,
        now: Now,
    ) -> Result<String, AcmError> {
        execute(world, caller, action, input, now)
    }

    fn injected(code: &str, message: Option<&str>) -> AcmError {
        AcmError::injected(code, message)
    }

    fn throttled() -> AcmError {
        AcmError::throttled()
    }

    fn internal() -> AcmError {
        AcmError::internal()
    }

    fn describe(error: &AcmError) -> (&str, &str) {
        (error.code(), error.message())
    }

    fn respond(_: Option<Action>, request_id: &str, result: Result<String, AcmError>) -> Response {
        match result {
            Ok(body) => json_response(StatusCode::OK, request_id, body),
            Err(err) => json_response(err.status(), request_id, err.to_json()),
        }
    }
}

/// The answers of AWS JSON services to a refused `Authorization` header.
fn auth_error(err: AuthError) -> AcmError {
    match err {
        AuthError::Missing => AcmError::new(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ),
        AuthError::Incomplete => AcmError::new(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential' of the form AKID/date/region/acm/aws4_request.",
        ),
        AuthError::WrongService { expected, found } => AcmError::new(
            "InvalidSignatureException",
            format!("Credential should be scoped to correct service: '{expected}', not '{found}'."),
        ),
    }
}

fn json_response(status: StatusCode, request_id: &str, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    response
}
