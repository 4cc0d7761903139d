//! What a wire protocol layer provides to the one `POST /` endpoint: how to read a request
//! (caller and action), how to run it against the shared [`World`], the errors fault injection
//! needs, and how to write the answer. `ec2` (Query + XML) and `acm` (AWS JSON 1.1) implement
//! it; `server` drives either with the same pipeline (count, faults, latency).

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::clock::Now;
use crate::state::World;

/// The raw HTTP request, as `server` received it.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// An authenticated, decoded request: who calls, which action, with what input.
pub struct Call<P: Protocol> {
    pub caller: Caller,
    pub action: P::Action,
    pub input: P::Input,
}

/// What fault injection and the request log need from a protocol's error type.
pub trait WireError {
    /// A fail-next rule's error (`message` `None` = the code's usual text).
    fn injected(code: &str, message: Option<&str>) -> Self;
    /// The random throttling fault.
    fn throttled() -> Self;
    /// The random internal-error fault.
    fn internal() -> Self;
    /// Error code and message, for the request log.
    fn describe(&self) -> (&str, &str);
}

/// One wire protocol.
pub trait Protocol: Sized {
    /// The protocol's action enum.
    type Action: Copy;
    /// The decoded request parameters.
    type Input;
    /// The protocol's error (code, message, HTTP status, body).
    type Error: WireError;

    /// Authenticates and decodes the request.
    fn identify(request: &HttpRequest<'_>) -> Result<Call<Self>, Self::Error>;

    fn action_name(action: Self::Action) -> &'static str;

    /// Runs the call; the `String` is the body the success response carries.
    fn execute(world: &mut World, call: &Call<Self>, now: Now) -> Result<String, Self::Error>;

    /// The HTTP answer.
    fn respond(
        action: Option<Self::Action>,
        request_id: &str,
        result: Result<String, Self::Error>,
    ) -> Response;
}

/// An answer as every AWS protocol sends it: `status`, `body` of `content_type`, and the
/// request id in `x-amzn-RequestId`.
pub fn aws_response(
    status: StatusCode,
    request_id: &str,
    content_type: &'static str,
    body: String,
) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    response
}

/// Declares a protocol's `Action` enum from the action names: the variants, `ALL`, and the
/// wire name of each (`name`, `from_name`). The protocol adds how each action runs.
macro_rules! action_enum {
    ($(#[$meta:meta])* $($name:ident),+ $(,)?) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($name),+
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$name),+];

            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$name => stringify!($name)),+
                }
            }

            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $(stringify!($name) => Some(Action::$name),)+
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use action_enum;

#[cfg(test)]
mod tests {
    use crate::{acm, ec2};

    /// Every action of both protocols maps back from its wire name; others map to nothing.
    #[test]
    fn action_names_round_trip() {
        assert_eq!(ec2::Action::ALL.len(), 17);
        for action in ec2::Action::ALL {
            assert_eq!(ec2::Action::from_name(action.name()), Some(*action));
        }
        assert_eq!(ec2::Action::from_name("RunInstances"), None);
        assert_eq!(acm::Action::ALL.len(), 8);
        for action in acm::Action::ALL {
            assert_eq!(acm::Action::from_name(action.name()), Some(*action));
        }
        assert_eq!(acm::Action::from_name("RequestCertificate"), None);
    }
}
