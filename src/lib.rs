//! clientvpn-operator: manages AWS EC2 Client VPN endpoints from `ClientVpnEndpoint` objects.
//!
//! Imports go one way: `main` → `runtime` and the controllers (`endpoint`) → `endpoint::plan`
//! (pure) and `cloud` (kube-free, spec-free) → `api` (types only). See `docs/architecture.md`.

pub mod api;
pub mod certificates;
pub mod cloud;
pub mod endpoint;
pub mod http;
pub mod metrics;
pub mod runtime;
pub mod telemetry;
pub mod user;
