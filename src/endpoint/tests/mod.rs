//! Controller-level tests: the real reconcile with an in-memory AWS and Kubernetes API, per
//! subject: create and delete, the lifecycle of an existing endpoint, the region inventory.

use std::time::Duration;

use kube::runtime::controller::Action;

use super::fixtures::*;
use super::{Error, error_policy};
use crate::api::{ClientVpnEndpoint, FINALIZER, condition, tags};
use crate::cloud::{ClientVpnApi, ErrorKind, status_code};

/// The calls that observe a live endpoint: the endpoint and its three kinds of children.
pub(super) const OBSERVE: [&str; 4] = [
    "Describe",
    "DescribeNetworks",
    "DescribeRules",
    "DescribeRoutes",
];

/// Let one resync interval pass (tests with paused time): region listings become old.
pub(super) async fn next_resync() {
    tokio::time::advance(Duration::from_secs(300)).await;
}

pub(super) fn id_of(h: &Harness) -> String {
    h.status()
        .client_vpn_endpoint_id
        .expect("endpoint ID in status")
}

mod certificates;
mod create_delete;
mod inventory;
mod lifecycle;
