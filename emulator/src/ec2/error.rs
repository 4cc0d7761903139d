//! The errors of the EC2 surface: the HTTP status of each code and the EC2 XML error envelope.

use axum::http::StatusCode;

use super::wire::Ec2;
use super::xml::escape;
use crate::protocol::ApiError;

/// An EC2 API error as the client sees it: `Code` + `Message` in the `<Response><Errors>` envelope.
pub type Ec2Error = ApiError<Ec2>;

impl Ec2Error {
    /// HTTP status per code (reference §5); every code not listed is a 400 client error.
    pub fn status(&self) -> StatusCode {
        status_for_code(self.code())
    }

    /// The EC2 error envelope. Note `RequestID` (capital ID), unlike `requestId` in successes.
    pub fn to_xml(&self, request_id: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{}</RequestID></Response>",
            escape(self.code()),
            escape(self.message()),
            escape(request_id)
        )
    }

    pub fn missing(parameter: &str) -> Self {
        Self::new(
            "MissingParameter",
            format!("The request must contain the parameter {parameter}"),
        )
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterValue", message)
    }

    pub fn invalid_value(parameter: &str, value: &str, why: &str) -> Self {
        Self::invalid(format!(
            "Value ({value}) for parameter {parameter} is invalid. {why}"
        ))
    }

    pub fn combination(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterCombination", message)
    }

    pub fn endpoint_not_found(id: &str) -> Self {
        Self::new(
            "InvalidClientVpnEndpointId.NotFound",
            format!("Endpoint {id} does not exist"),
        )
    }

    pub fn incorrect_state(message: impl Into<String>) -> Self {
        Self::new("IncorrectState", message)
    }

    pub fn dry_run() -> Self {
        Self::new(
            "DryRunOperation",
            "Request would have succeeded, but DryRun flag is set.",
        )
    }
}

/// HTTP status of an EC2 error code.
pub fn status_for_code(code: &str) -> StatusCode {
    match code {
        "DryRunOperation" => StatusCode::PRECONDITION_FAILED,
        "AuthFailure" => StatusCode::UNAUTHORIZED,
        "UnauthorizedOperation" | "SignatureDoesNotMatch" | "OptInRequired" => {
            StatusCode::FORBIDDEN
        }
        "RequestLimitExceeded" | "Unavailable" | "ServiceUnavailable" => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        "InternalError" | "InternalFailure" | "ServerInternal" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_per_code() {
        let table = [
            ("InvalidClientVpnEndpointId.NotFound", 400),
            ("MissingParameter", 400),
            ("IdempotentParameterMismatch", 400),
            ("DryRunOperation", 412),
            ("UnauthorizedOperation", 403),
            ("AuthFailure", 401),
            ("RequestLimitExceeded", 503),
            ("ServiceUnavailable", 503),
            ("InternalError", 500),
            ("SomethingElse", 400),
        ];
        for (code, status) in table {
            assert_eq!(status_for_code(code).as_u16(), status, "{code}");
        }
    }

    #[test]
    fn envelope_is_escaped_and_uses_capital_request_id() {
        let xml = Ec2Error::invalid("a < b & c").to_xml("rid");
        assert!(xml.contains("<Code>InvalidParameterValue</Code>"));
        assert!(xml.contains("<Message>a &lt; b &amp; c</Message>"));
        assert!(xml.ends_with("<RequestID>rid</RequestID></Response>"));
    }
}
