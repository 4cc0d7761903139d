//! The EC2 Query protocol on the wire: form-encoded parameters (`POST` body or `GET` query),
//! `Action`/`Version`, the SigV4 scope `ec2`, and XML answers with the request id in the
//! `x-amzn-RequestId` header and the body.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::Ec2Error;
use super::query::Params;
use super::xml::success_document;
use super::{Action, execute};
use crate::auth::{self, AuthError, Caller};
use crate::clock::Now;
use crate::protocol::{HttpRequest, Protocol};
use crate::state::World;

/// The EC2 protocol (marker for [`Protocol`]).
#[derive(Debug, Clone, Copy)]
pub struct Ec2;

impl Protocol for Ec2 {
    type Action = Action;
    type Input = Params;
    type Error = Ec2Error;

    fn identify(request: &HttpRequest<'_>) -> Result<(Caller, Action, Params), Ec2Error> {
        let params = if *request.method == Method::GET {
            Params::parse(request.uri.query().unwrap_or_default().as_bytes())
        } else {
            Params::parse(request.body)
        };
        let caller = auth::caller(request.headers, "ec2").map_err(auth_error)?;
        let name = params
            .get("Action")
            .filter(|a| !a.is_empty())
            .ok_or_else(|| {
                Ec2Error::new(
                    "MissingAction",
                    "The request must contain the parameter Action",
                )
            })?;
        let action = Action::from_name(name).ok_or_else(|| {
            Ec2Error::new(
                "InvalidAction",
                format!("The action {name} is not valid for this web service."),
            )
        })?;
        params.required("Version")?;
        Ok((caller, action, params))
    }

    fn action_name(action: Action) -> &'static str {
        action.name()
    }

    fn execute(
        world: &mut World,
        caller: &Caller,
        action: Action,
        input: &Params,
        now: Now,
    ) -> Result<String, Ec2Error> {
        execute(world, caller, action, input, now)
    }

    fn injected(code: &str, message: Option<&str>) -> Ec2Error {
        Ec2Error::injected(code, message)
    }

    fn throttled() -> Ec2Error {
        Ec2Error::throttled()
    }

    fn internal() -> Ec2Error {
        Ec2Error::internal()
    }

    fn describe(error: &Ec2Error) -> (&str, &str) {
        (error.category(), error.message())
    }

    fn respond(
        action: Option<Action>,
        request_id: &str,
        result: Result<String, Ec2Error>,
    ) -> Response {
        match result {
            Ok(body) => {
                let name = action.map_or("-", Action::name);
                xml_response(
                    StatusCode::OK,
                    request_id,
                    success_document(name, request_id, &body),
                )
            }
            Err(err) => xml_response(err.status(), request_id, err.to_xml(request_id)),
        }
    }
}

/// EC2's answers to a refused `Authorization` header.
fn auth_error(err: AuthError) -> Ec2Error {
    match err {
        AuthError::Missing => Ec2Error::new(
            "AuthFailure",
            "AWS was not able to validate the provided access credentials",
        ),
        AuthError::Incomplete => Ec2Error::new(
            "IncompleteSignature",
            "Authorization header requires 'Credential' of the form AKID/date/region/ec2/aws4_request.",
        ),
        AuthError::WrongService { expected, found } => Ec2Error::new(
            "SignatureDoesNotMatch",
            format!("Credential should be scoped to correct service: '{expected}', not '{found}'."),
        ),
    }
}

fn xml_response(status: StatusCode, request_id: &str, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml;charset=UTF-8"),
    );
    headers.insert(header::SERVER, HeaderValue::from_static("AmazonEC2"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    response
}
