//! `clientvpn-emulator`: an offline emulator of the AWS EC2 Client VPN API and the parts of ACM
//! it depends on.
//!
//! Layers, imports pointing down only:
//! * top: [`server`] (the one `POST /`, picking the protocol per request) and [`control`]
//!   (`/_emulator/`), with [`connect`] (a simulated client's mutual TLS authentication), plus
//!   [`AppState`];
//! * protocols: [`ec2`] (EC2 Query form + XML, the 21 Client VPN actions) and [`acm`] (AWS JSON
//!   1.1, the certificate actions), each implementing [`protocol::Protocol`];
//! * bottom: [`state`] (per account and region: endpoints with their connections and
//!   revocation lists, and certificates), [`pki`] (keys, chains, CRLs), [`config`], [`faults`],
//!   [`throttle`] (request-rate token buckets), [`auth`], [`clock`], [`ids`].
//!
//! State is kept per account (derived from the access key) and region (from the SigV4 credential
//! scope). See `emulator/README.md`.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use clientvpn_emulator::{AppState, app};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, app(AppState::default())).await
//! # }
//! ```

pub mod acm;
pub mod auth;
pub mod clock;
pub mod config;
pub mod connect;
pub mod control;
pub mod ec2;
pub mod faults;
pub mod ids;
pub mod pki;
pub mod protocol;
pub mod server;
pub mod state;
pub mod throttle;

use std::sync::{Arc, Mutex, MutexGuard};

pub use config::{Config, Limits, Settings, Timing};
pub use ec2::Ec2Error;
pub use faults::{FailNext, Faults};
pub use throttle::RequestRateLimits;

use faults::FailNextQueue;
use ids::Rng;
use state::World;

/// The whole HTTP surface: the AWS endpoint and the `/_emulator/` control API.
pub fn app(state: AppState) -> axum::Router {
    axum::Router::new()
        .merge(server::router())
        .merge(control::router())
        .with_state(state)
}

/// The shared world behind its lock. Cheap to clone; pass it to [`app`].
#[derive(Debug, Clone)]
pub struct AppState {
    world: Arc<Mutex<World>>,
}

impl AppState {
    /// Validates the configuration (probabilities, action names of fault rules).
    pub fn new(config: Config) -> Result<Self, String> {
        config.faults.validate(server::is_known_action)?;
        let mut fail_next = FailNextQueue::default();
        for rule in config.fail_next {
            fail_next.push(rule, server::is_known_action)?;
        }
        let rng = config.seed.map_or_else(Rng::from_entropy, Rng::seeded);
        Ok(Self {
            world: Arc::new(Mutex::new(World::new(
                config.timing,
                config.limits,
                config.settings,
                config.faults,
                fail_next,
                rng,
            ))),
        })
    }

    /// Locks the world. A poisoned lock means a handler panicked mid-update: fail loudly.
    pub fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().expect("emulator state lock poisoned")
    }
}

impl Default for AppState {
    fn default() -> Self {
        Self::new(Config::default()).expect("default configuration is valid")
    }
}
