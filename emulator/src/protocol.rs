//! What a wire protocol layer provides to the one `POST /` endpoint: how to read a request
//! (caller and action), how to run it against the shared [`World`], the errors fault injection
//! needs, and how to write the answer. `ec2` (Query + XML) and `acm` (AWS JSON 1.1) implement
//! it; `server` drives either with the same pipeline (count, faults, latency).

use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;

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

/// One wire protocol.
pub trait Protocol {
    /// The protocol's action enum.
    type Action: Copy;
    /// The decoded request parameters.
    type Input;
    /// The protocol's error (code, message, HTTP status, body).
    type Error;

    /// Authenticates and decodes the request.
    fn identify(
        request: &HttpRequest<'_>,
    ) -> Result<(Caller, Self::Action, Self::Input), Self::Error>;

    fn action_name(action: Self::Action) -> &'static str;

    /// Runs the action; the `String` is the body the success response carries.
    fn execute(
        world: &mut World,
        caller: &Caller,
        action: Self::Action,
        input: &Self::Input,
        now: Now,
    ) -> Result<String, Self::Error>;

    /// A fail-next rule's error (`message` `None` = the code's usual text).
    fn injected(code: &str, message: Option<&str>) -> Self::Error;
    /// The random throttling fault.
    fn throttled() -> Self::Error;
    /// The random internal-error fault.
    fn internal() -> Self::Error;

    /// Error code and message, for the request log.
    fn describe(error: &Self::Error) -> (&str, &str);

    /// The HTTP answer.
    fn respond(
        action: Option<Self::Action>,
        request_id: &str,
        result: Result<String, Self::Error>,
    ) -> Response;
}
