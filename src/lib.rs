//! clientvpn-operator: manages AWS EC2 Client VPN endpoints from `ClientVpnEndpoint` objects.

pub mod api;
pub mod cloud;
pub mod controller;
pub mod http;
pub mod leader;
pub mod metrics;
pub mod telemetry;
