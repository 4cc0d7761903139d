//! The EC2 Query protocol on the wire: form-encoded parameters (`POST` body or `GET` query),
//! `Action`/`Version`, the SigV4 scope `ec2`, and XML answers with the request id in the
//! `x-amzn-RequestId` header and the body.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use super::error::Ec2Error;
use super::query::Params;
use super::xml::success_document;
use super::{Action, execute};
use crate::auth::Refusals;
use crate::clock::Now;
use crate::protocol::{Call, FaultCodes, HttpRequest, Protocol, authenticate, aws_response};
use crate::state::World;
use crate::throttle::BucketClass;

/// The members of a `Describe*` call that neither filter nor paginate: such a call draws from
/// AWS's "unfiltered and unpaginated" bucket. The child describes' required
/// `ClientVpnEndpointId` names what they list, it does not filter.
const UNFILTERED_PARAMS: &[&str] = &["Action", "Version", "DryRun", "ClientVpnEndpointId"];

/// The EC2 protocol (marker for [`Protocol`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ec2;

impl Protocol for Ec2 {
    type Action = Action;
    type Input = Params;

    fn identify(request: &HttpRequest<'_>) -> Result<Call<Self>, Ec2Error> {
        let params = if *request.method == Method::GET {
            Params::parse(request.uri.query().unwrap_or_default().as_bytes())
        } else {
            Params::parse(request.body)
        };
        let caller = authenticate(request.headers, "ec2", &Refusals::EC2)?;
        let name = params.non_empty("Action").ok_or_else(|| {
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
        Ok(Call {
            caller,
            action,
            input: params,
        })
    }

    fn bucket_class(call: &Call<Self>) -> BucketClass {
        let unfiltered = call.input.only(UNFILTERED_PARAMS);
        BucketClass::ec2(call.action.name(), unfiltered)
    }

    fn execute(world: &mut World, call: &Call<Self>, now: Now) -> Result<String, Ec2Error> {
        execute(world, call, now)
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

    const FAULTS: FaultCodes = FaultCodes {
        throttled: ("RequestLimitExceeded", "Request limit exceeded."),
        internal: (
            &["InternalError", "InternalFailure", "ServerInternal"],
            "An internal error has occurred. Please try again later.",
        ),
    };
}

/// An XML answer, with the `Server: AmazonEC2` header EC2 sends.
fn xml_response(status: StatusCode, request_id: &str, body: String) -> Response {
    let mut response = aws_response(status, request_id, "text/xml;charset=UTF-8", body);
    let server = HeaderValue::from_static("AmazonEC2");
    response.headers_mut().insert(header::SERVER, server);
    response
}
