//! What a wire protocol layer provides to the one `POST /` endpoint: how to read a request
//! (caller and action), how to run it against the shared [`World`], the errors fault injection
//! needs, its request-rate bucket, and how to write the answer. `ec2` (Query + XML) and `acm`
//! (AWS JSON 1.1) implement it; `server` drives either with the same pipeline (count, rate
//! limits, faults, latency). Both share the error type [`ApiError`] and [`authenticate`].

use std::borrow::Cow;
use std::marker::PhantomData;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::auth::{self, Caller, Refusals};
use crate::clock::Now;
use crate::state::World;
use crate::throttle::BucketClass;

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

/// An AWS API error as the client sees it: a code and a message. The protocol `P` gives it its
/// HTTP status and body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError<P> {
    code: Cow<'static, str>,
    message: String,
    protocol: PhantomData<P>,
}

impl<P> ApiError<P> {
    pub fn new(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            protocol: PhantomData,
        }
    }

    /// The AWS error code, e.g. `InvalidClientVpnEndpointId.NotFound`.
    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A quota of `limit` with `used` taken: once full, `code` with `message`.
pub fn check_quota<P>(
    used: usize,
    limit: usize,
    code: &'static str,
    message: impl Into<String>,
) -> Result<(), ApiError<P>> {
    if used >= limit {
        return Err(ApiError::new(code, message));
    }
    Ok(())
}

/// The caller named by the SigV4 credential scope of `service`, or the protocol's answer to a
/// refused `Authorization` header.
pub fn authenticate<P>(
    headers: &HeaderMap,
    service: &'static str,
    refusals: &Refusals,
) -> Result<Caller, ApiError<P>> {
    auth::caller(headers, service).map_err(|err| {
        let (code, message) = err.answer(service, refusals);
        ApiError::new(code, message)
    })
}

/// A protocol's errors for injected faults: the code and message of throttling, and the codes
/// that get the internal-error message (random faults use the first) with that message.
pub struct FaultCodes {
    pub throttled: (&'static str, &'static str),
    pub internal: (&'static [&'static str], &'static str),
}

impl<P: Protocol> ApiError<P> {
    /// The throttling error: of an empty request-rate bucket and of the random fault.
    pub fn throttled() -> Self {
        let (code, message) = P::FAULTS.throttled;
        Self::new(code, message)
    }

    /// The random internal-error fault.
    pub fn internal() -> Self {
        let (codes, message) = P::FAULTS.internal;
        Self::new(codes[0], message)
    }

    /// A fail-next rule's error; without `message`, the code's usual text.
    pub fn injected(code: &str, message: Option<&str>) -> Self {
        let FaultCodes {
            throttled,
            internal,
        } = P::FAULTS;
        let usual = || match code {
            _ if code == throttled.0 => throttled.1.to_owned(),
            _ if internal.0.contains(&code) => internal.1.to_owned(),
            _ => format!("Injected fault {code} (clientvpn-emulator)"),
        };
        Self::new(code.to_owned(), message.map_or_else(usual, str::to_owned))
    }
}

/// The wire name of an action (implemented by [`action_enum!`]).
pub trait ActionName: Copy {
    fn name(self) -> &'static str;
}

/// One wire protocol.
pub trait Protocol: Sized {
    /// The protocol's action enum.
    type Action: ActionName;
    /// The decoded request parameters.
    type Input;
    /// What fault injection answers with.
    const FAULTS: FaultCodes;

    /// Authenticates and decodes the request.
    fn identify(request: &HttpRequest<'_>) -> Result<Call<Self>, ApiError<Self>>;

    /// Which request-rate bucket the call draws from (refusals answer [`ApiError::throttled`]).
    fn bucket_class(call: &Call<Self>) -> BucketClass;

    /// Runs the call; the `String` is the body the success response carries.
    fn execute(world: &mut World, call: &Call<Self>, now: Now) -> Result<String, ApiError<Self>>;

    /// The HTTP answer.
    fn respond(
        action: Option<Self::Action>,
        request_id: &str,
        result: Result<String, ApiError<Self>>,
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

        impl $crate::protocol::ActionName for Action {
            fn name(self) -> &'static str {
                Action::name(self)
            }
        }
    };
}
pub(crate) use action_enum;

#[cfg(test)]
mod tests {
    use crate::acm::AcmError;
    use crate::ec2::Ec2Error;
    use crate::{acm, ec2};

    /// Fault errors in each protocol's codes, with the usual message unless the rule has one.
    #[test]
    fn fault_errors_per_protocol() {
        let ec2_internal = "An internal error has occurred. Please try again later.";
        assert_eq!(Ec2Error::internal().code(), "InternalError");
        assert_eq!(Ec2Error::internal().message(), ec2_internal);
        assert_eq!(
            Ec2Error::injected("ServerInternal", None).message(),
            ec2_internal
        );
        assert_eq!(
            Ec2Error::throttled(),
            Ec2Error::injected("RequestLimitExceeded", None)
        );
        assert_eq!(Ec2Error::injected("X", Some("m")), Ec2Error::new("X", "m"));
        assert_eq!(AcmError::throttled().code(), "ThrottlingException");
        assert_eq!(
            AcmError::internal(),
            AcmError::injected("InternalFailure", None)
        );
        assert_eq!(
            AcmError::injected("InternalError", None).message(),
            "Injected fault InternalError (clientvpn-emulator)"
        );
    }

    /// Every action of both protocols maps back from its wire name; others map to nothing.
    #[test]
    fn action_names_round_trip() {
        assert_eq!(ec2::Action::ALL.len(), 21);
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
