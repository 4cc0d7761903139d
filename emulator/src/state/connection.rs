//! A client session of an endpoint (DescribeClientVpnConnections) and the endpoint's imported
//! certificate revocation list, with their states.

use std::time::{Duration, Instant, SystemTime};

use serde::{Serialize, Serializer};

use crate::clock::format_connection_time;
use crate::pki::crl::RevocationList;

/// How long a terminated session stays listed ("terminated within the last 60 minutes").
pub const TERMINATED_VISIBLE: Duration = Duration::from_secs(60 * 60);

status_enum! {
    /// `ClientVpnConnectionStatusCode` (`failed-to-terminate` is never reached here).
    ConnectionState {
        Active = "active",
        FailedToTerminate = "failed-to-terminate",
        Terminating = "terminating",
        Terminated = "terminated",
    }
}

status_enum! {
    /// `ClientCertificateRevocationListStatusCode`.
    CrlState {
        Pending = "pending",
        Active = "active",
    }
}

/// One client session.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// `cvpn-connection-` + 17 hex.
    pub connection_id: String,
    /// The client certificate's CN.
    pub common_name: String,
    /// Only with directory-service or federated authentication.
    pub username: Option<String>,
    /// From the endpoint's client CIDR; `None` without one.
    pub client_ip: Option<String>,
    pub status: ConnectionState,
    pub connection_established_time: String,
    pub connection_end_time: Option<String>,
    pub ingress_bytes: u64,
    pub egress_bytes: u64,
    pub ingress_packets: u64,
    pub egress_packets: u64,
    /// Connection order within the region (the listing order).
    #[serde(skip)]
    pub seq: u64,
    /// End of `terminating`.
    #[serde(skip)]
    pub due: Option<Instant>,
    /// When it became `terminated` (it is forgotten [`TERMINATED_VISIBLE`] later).
    #[serde(skip)]
    pub ended: Option<Instant>,
}

impl Connection {
    /// Whether the session still holds its client address (not yet `terminated`).
    pub fn is_live(&self) -> bool {
        self.status != ConnectionState::Terminated
    }

    /// Becomes `terminated` at `at` (wall-clock time `wall`).
    pub fn end(&mut self, at: Instant, wall: SystemTime) {
        self.status = ConnectionState::Terminated;
        self.connection_end_time = Some(format_connection_time(wall));
        self.ended = Some(at);
        self.due = None;
    }
}

/// An imported revocation list and whether it has been applied yet.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Crl {
    #[serde(rename = "revocationList", serialize_with = "summary")]
    pub list: RevocationList,
    pub status: CrlState,
    /// End of `pending`.
    #[serde(skip)]
    pub due: Option<Instant>,
}

/// `{"entries": n, "nextUpdate": epoch seconds or null}` (the PEM is left out of state dumps).
fn summary<S: Serializer>(list: &RevocationList, serializer: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Summary {
        entries: usize,
        next_update: Option<i64>,
    }
    Summary {
        entries: list.entries(),
        next_update: list.next_update,
    }
    .serialize(serializer)
}
