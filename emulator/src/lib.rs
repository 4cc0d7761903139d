//! `clientvpn-emulator`: an offline emulator of the AWS EC2 Client VPN API.
//!
//! It speaks the EC2 Query protocol on `POST /` (form-encoded requests, XML responses, the EC2
//! error envelope) for the 17 Client VPN actions the operator uses, keeps separate state per
//! account (derived from the access key) and region (from the SigV4 credential scope), and
//! offers a JSON control API under `/_emulator/` for tests. See `emulator/README.md`.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use clientvpn_emulator::{AppState, app};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, app(AppState::default())).await
//! # }
//! ```

pub mod actions;
pub mod auth;
pub mod clock;
pub mod control;
pub mod error;
pub mod faults;
pub mod ids;
pub mod model;
pub mod network;
pub mod query;
pub mod server;
pub mod state;
pub mod xml;

pub use error::Ec2Error;
pub use faults::{FailNext, Faults};
pub use state::{AppState, Config, Limits, Timing};

/// The whole HTTP surface: the EC2 endpoint and the `/_emulator/` control API.
pub fn app(state: AppState) -> axum::Router {
    axum::Router::new()
        .merge(server::router())
        .merge(control::router())
        .with_state(state)
}
