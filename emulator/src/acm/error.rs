//! The errors of the ACM surface: their HTTP status and the AWS JSON 1.1 body
//! `{"__type": code, "message"}`.

use axum::http::StatusCode;
use serde_json::json;

use super::wire::Acm;
use crate::protocol::ApiError;

/// An ACM API error as the client sees it.
pub type AcmError = ApiError<Acm>;

impl AcmError {
    /// No ACM error has a modelled status, so client errors are 400 (throttling included);
    /// only server faults differ.
    pub fn status(&self) -> StatusCode {
        match self.code() {
            "InternalFailure" | "InternalServerException" | "InternalError" => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            "ServiceUnavailable" | "ServiceUnavailableException" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// `{"__type": "...", "message": "..."}`; `AccessDeniedException` spells it `Message`.
    pub fn to_json(&self) -> String {
        let key = if self.code() == "AccessDeniedException" {
            "Message"
        } else {
            "message"
        };
        json!({"__type": self.code(), key: self.message()}).to_string()
    }

    /// `ValidationException` in the service framework's wording, one violated constraint.
    pub fn validation(member: &str, value: Option<&str>, constraint: &str) -> Self {
        let value = value.map_or_else(|| "null".to_owned(), |v| format!("'{v}'"));
        Self::new(
            "ValidationException",
            format!(
                "1 validation error detected: Value {value} at '{}' failed to satisfy constraint: {constraint}",
                lower_camel(member)
            ),
        )
    }

    pub fn missing(member: &str) -> Self {
        Self::validation(member, None, "Member must not be null")
    }

    /// Certificate material ACM refuses (reference: import validation rules).
    pub fn invalid_material(message: impl Into<String>) -> Self {
        Self::new("ValidationException", message)
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", message)
    }

    pub fn invalid_arn(arn: &str) -> Self {
        Self::new(
            "InvalidArnException",
            format!("String '{arn}' is not a valid ARN."),
        )
    }

    pub fn not_found(arn: &str) -> Self {
        Self::new(
            "ResourceNotFoundException",
            format!("Could not find certificate {arn}."),
        )
    }
}

/// `CertificateArn` → `certificateArn`, as the framework names members in messages.
fn lower_camel(member: &str) -> String {
    let mut chars = member.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_ascii_lowercase().to_string() + chars.as_str()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_bodies() {
        assert_eq!(AcmError::throttled().status(), 400);
        assert_eq!(AcmError::internal().status(), 500);
        assert_eq!(AcmError::not_found("arn:x").status(), 400);
        let body: serde_json::Value =
            serde_json::from_str(&AcmError::not_found("arn:x").to_json()).unwrap();
        assert_eq!(body["__type"], "ResourceNotFoundException");
        assert_eq!(body["message"], "Could not find certificate arn:x.");
        let denied = AcmError::new("AccessDeniedException", "no").to_json();
        assert!(denied.contains("\"Message\":\"no\""));
    }

    #[test]
    fn validation_wording() {
        assert_eq!(
            AcmError::missing("Certificate").message(),
            "1 validation error detected: Value null at 'certificate' failed to satisfy constraint: Member must not be null"
        );
    }
}
