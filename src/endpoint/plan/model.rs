//! The model every planning step shares: what is wanted (normalized), what was observed, the
//! steps to take and the outcome to report. Pure data; no kube, no AWS SDK.

use std::collections::BTreeMap;

use crate::api::DeletionPolicy;
use crate::cloud::{
    AuthorizationRule, CreateEndpoint, EndpointSettings, FixedSettings, ModifyEndpoint,
    ObservedEndpoint, Route, RouteKey, RuleKey, TargetNetwork, status_code,
};

/// What the object asks for, normalized by [`super::desired`]: planning never reads the spec.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    /// The object's UID: the idempotency token and the `clientvpn.io/uid` tag value.
    pub uid: String,
    /// True once the object has a deletion timestamp.
    pub deleting: bool,
    pub deletion_policy: DeletionPolicy,
    /// `metadata.generation`: part of child idempotency tokens.
    pub generation: Option<i64>,
    /// The endpoint's settings with AWS's defaults filled in, as a Create would send them.
    pub endpoint: DesiredEndpoint,
    /// Every tag the endpoint should carry: the user's plus the ownership tags.
    pub wanted_tags: BTreeMap<String, String>,
    /// The children the spec lists.
    pub children: WantedChildren,
    /// ConfigMap that receives the exported client configuration, if any.
    pub config_map_name: Option<String>,
    /// The serials of the certificates the operator imports (empty for ARNs): a renewal keeps
    /// the ARN, so this is what makes the exported configuration follow it.
    pub certificate_revision: String,
    /// Operations the operator may have in progress on the endpoint at once (an operator
    /// setting, not the spec's; AWS allows 10).
    pub operations_limit: usize,
}

/// The normalized endpoint: what Create sends, what Modify and drift compare, what adoption checks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DesiredEndpoint {
    pub settings: EndpointSettings,
    pub fixed: FixedSettings,
    pub transit_gateway: Option<crate::cloud::TransitGateway>,
    pub device_posture: Option<crate::cloud::DevicePosture>,
}

impl DesiredEndpoint {
    /// The `CreateClientVpnEndpoint` request for this endpoint.
    pub fn create_request(
        &self,
        client_token: String,
        tags: BTreeMap<String, String>,
    ) -> CreateEndpoint {
        CreateEndpoint {
            client_token,
            tags,
            settings: self.settings.clone(),
            fixed: self.fixed.clone(),
            transit_gateway: self.transit_gateway.clone(),
            device_posture: self.device_posture.clone(),
        }
    }
}

/// Target networks, rules and routes the spec lists, keyed as AWS identifies them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WantedChildren {
    /// Subnet IDs, in spec order.
    pub networks: Vec<String>,
    /// Rules and their descriptions.
    pub rules: BTreeMap<RuleKey, Option<String>>,
    /// Routes and their descriptions.
    pub routes: BTreeMap<RouteKey, Option<String>>,
}

/// The children of one endpoint, as AWS reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Children {
    pub networks: Vec<TargetNetwork>,
    pub rules: Vec<AuthorizationRule>,
    pub routes: Vec<Route>,
}

/// What the operator found in AWS (and in the cluster) for this object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observation {
    /// Endpoint ID from the adoption annotation, if any.
    pub adopt_id: Option<String>,
    /// Children of the live endpoint (empty when there is none).
    pub children: Children,
    /// User tag keys the operator applied before (from status).
    pub applied_tag_keys: Vec<String>,
    /// Status shows this generation applied and nothing in progress: changes now are drift.
    pub settled: bool,
    /// Fingerprint on the client-configuration ConfigMap, if it exists.
    pub config_map_fingerprint: Option<String>,
    /// The endpoint ID recorded in status, if any.
    pub recorded_id: Option<String>,
    /// Whether status shows the recorded endpoint was described at least once (it existed).
    pub recorded_was_seen: bool,
    /// The recorded endpoint as AWS describes it; `None` when AWS says it does not exist.
    pub by_id: Option<ObservedEndpoint>,
    /// Endpoints tagged `clientvpn.io/uid=<uid>`, looked up when `by_id` is not live.
    pub by_tag: Vec<ObservedEndpoint>,
}

impl Observation {
    /// The live endpoints that belong to the object: the recorded one if it is live, otherwise
    /// every live endpoint carrying the object's UID tag.
    pub fn live(&self) -> Vec<&ObservedEndpoint> {
        match self.by_id.as_ref().filter(|e| !e.is_going_away()) {
            Some(endpoint) => vec![endpoint],
            None => self.by_tag.iter().filter(|e| !e.is_going_away()).collect(),
        }
    }

    /// IDs of the endpoints AWS is still deleting.
    pub fn deleting_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .by_id
            .iter()
            .chain(self.by_tag.iter())
            .filter(|e| e.status_code == status_code::DELETING)
            .map(|e| e.id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// One AWS mutation (or export).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `CreateClientVpnEndpoint`: the whole request (token, tags, normalized endpoint).
    Create(Box<CreateEndpoint>),
    /// `DeleteClientVpnEndpoint`.
    Delete { endpoint_id: String },
    /// `ModifyClientVpnEndpoint` with the fields that differ.
    Modify(ModifyEndpoint),
    /// `ApplySecurityGroupsToClientVpnTargetNetwork`.
    ApplySecurityGroups {
        vpc_id: String,
        security_group_ids: Vec<String>,
    },
    /// `CreateTags`.
    CreateTags(BTreeMap<String, String>),
    /// `DeleteTags` by key.
    DeleteTags(Vec<String>),
    /// `AssociateClientVpnTargetNetwork`.
    Associate {
        subnet_id: String,
        client_token: String,
    },
    /// `DisassociateClientVpnTargetNetwork`.
    Disassociate { association_id: String },
    /// `AuthorizeClientVpnIngress`.
    Authorize {
        rule: RuleKey,
        description: Option<String>,
        client_token: String,
    },
    /// `RevokeClientVpnIngress`.
    Revoke { rule: RuleKey },
    /// `CreateClientVpnRoute`.
    CreateRoute {
        route: RouteKey,
        description: Option<String>,
        client_token: String,
    },
    /// `DeleteClientVpnRoute`.
    DeleteRoute { route: RouteKey },
    /// Export the client configuration into the ConfigMap.
    ExportClientConfiguration {
        config_map_name: String,
        fingerprint: String,
    },
}

impl Step {
    /// Changes something in AWS (the export only reads AWS and writes a ConfigMap).
    pub fn mutates_aws(&self) -> bool {
        !matches!(self, Self::ExportClientConfiguration { .. })
    }
}

/// How the object is doing, in kstatus terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// AWS matches the spec and the endpoint is usable.
    Ready {
        reason: &'static str,
        message: String,
    },
    /// Not usable yet, but nothing for the operator to do (e.g. no target network associated).
    NotReady {
        reason: &'static str,
        message: String,
    },
    /// The operator or AWS is working towards the spec.
    Reconciling {
        reason: &'static str,
        message: String,
    },
    /// Progress needs a spec change or help.
    Stalled { reason: String, message: String },
}

impl Health {
    /// Health implied by AWS's status code of a live endpoint.
    pub fn of_code(code: &str) -> Self {
        match code {
            status_code::AVAILABLE => Self::Ready {
                reason: "Available",
                message: "the endpoint is available".into(),
            },
            status_code::PENDING_ASSOCIATE => Self::NotReady {
                reason: "PendingAssociate",
                message: "AWS reports pending-associate: associate a target network to make the endpoint available".into(),
            },
            status_code::PENDING => Self::Reconciling {
                reason: "Pending",
                message: "AWS reports pending: the transit gateway attachment is in progress".into(),
            },
            other => Self::Reconciling {
                reason: "AwsTransition",
                message: format!("AWS reports status {other}"),
            },
        }
    }

    /// The condition reason.
    pub fn reason(&self) -> &str {
        match self {
            Self::Ready { reason, .. }
            | Self::NotReady { reason, .. }
            | Self::Reconciling { reason, .. } => reason,
            Self::Stalled { reason, .. } => reason,
        }
    }
}

/// The state to report once the steps are done.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// An endpoint exists; the steps bring it to the spec. `adopted` when it was found by tag
    /// (the status write after create was lost) or taken over by annotation.
    Observed {
        endpoint: Box<ObservedEndpoint>,
        adopted: bool,
        health: Health,
        /// Children the operations limit held back this pass: they start as soon as AWS
        /// finishes some of those in progress.
        deferred: usize,
    },
    /// The endpoint is being created by the planned step.
    Creating { recreate_of: Option<String> },
    /// The recorded endpoint is not visible yet (AWS is eventually consistent): look again soon.
    AwaitingVisibility { endpoint_id: String },
    /// Progress needs a human or a spec change.
    Stalled {
        reason: &'static str,
        message: String,
    },
    /// Deletion requested or in progress in AWS; keep the finalizer.
    Deleting { endpoint_ids: Vec<String> },
    /// Deleting the endpoint's routes, rules and associations first.
    TearingDown {
        endpoint_id: String,
        waiting_for: String,
    },
    /// Nothing left in AWS for this object (or it is retained): the finalizer may go.
    Released { retained: bool },
}

/// Steps to execute, in order, and the outcome to report after them.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub outcome: Outcome,
}

impl Plan {
    /// Nothing to do but report.
    pub fn report(outcome: Outcome) -> Self {
        Self {
            steps: Vec::new(),
            outcome,
        }
    }
}
