//! Test fixtures: object builders, an in-memory AWS and an in-memory Kubernetes API that record
//! every call, and a harness that feeds writes back into the object as the API server would.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::ObjectMeta;
use kube::runtime::controller::Action;

use super::diff::{changed_fields, security_groups_to_apply, settings_to_modify};
use super::plan::Children;
use super::{Cluster, Context, Error, Notice, Settings, reconcile};
use crate::api::*;
use crate::cloud::*;

pub const UID: &str = "5f1d3c1e-0000-4000-8000-000000000001";
pub const CLUSTER: &str = "test-cluster";

impl ClientVpnEndpoint {
    /// A valid object as a user would apply it: no finalizer, no status.
    pub fn test() -> Self {
        let spec: ClientVpnEndpointSpec = serde_json::from_value(serde_json::json!({
            "clientCidrBlock": "10.100.0.0/22",
            "serverCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/server",
            "authenticationOptions": [{"type": "certificate-authentication",
                "mutualAuthentication": {"clientRootCertificateChainArn": "arn:aws:acm:us-east-1:123456789012:certificate/root"}}],
            "tags": {"team": "net"}
        }))
        .expect("valid spec");
        let mut obj = ClientVpnEndpoint::new("office", spec);
        obj.metadata = ObjectMeta {
            name: Some("office".into()),
            namespace: Some("vpn".into()),
            uid: Some(UID.into()),
            generation: Some(1),
            resource_version: Some("1".into()),
            ..Default::default()
        };
        obj
    }

    /// With the cleanup finalizer in place.
    pub fn finalized(mut self) -> Self {
        self.metadata.finalizers = Some(vec![FINALIZER.into()]);
        self
    }

    /// With a deletion timestamp (the user deleted it).
    pub fn needs_delete(mut self) -> Self {
        self.metadata.deletion_timestamp =
            Some(Time(Timestamp::from_second(1_800_000_000).expect("valid")));
        self
    }

    /// With `deletionPolicy: Retain`.
    pub fn retained(mut self) -> Self {
        self.spec.deletion_policy = DeletionPolicy::Retain;
        self
    }

    /// With status recording an endpoint that was already described once.
    pub fn with_endpoint(mut self, id: &str) -> Self {
        self.status = Some(ClientVpnEndpointStatus {
            client_vpn_endpoint_id: Some(id.into()),
            creation_time: Some("2026-11-27T00:00:00".into()),
            region: Some("us-east-1".into()),
            ..Default::default()
        });
        self
    }
}

/// An in-memory EC2 Client VPN: idempotent create by token, deletion in two steps.
#[derive(Default)]
pub struct FakeCloud {
    state: Mutex<CloudState>,
}

#[derive(Default)]
struct CloudState {
    endpoints: Vec<(String, ObservedEndpoint)>,
    children: BTreeMap<String, Children>,
    tokens: BTreeMap<String, String>,
    calls: Vec<String>,
    failures: VecDeque<(&'static str, CloudError)>,
}

/// AWS's defaults for a new endpoint's modifiable settings.
fn aws_defaults() -> EndpointSettings {
    EndpointSettings {
        vpn_port: 443,
        session_timeout_hours: 24,
        disconnect_on_session_timeout: true,
        ..Default::default()
    }
}

/// Apply a Modify to settings, as AWS would.
pub fn apply_modify(settings: &mut EndpointSettings, change: &ModifyEndpoint) {
    let c = change.clone();
    if let Some(v) = c.server_certificate_arn {
        settings.server_certificate_arn = v;
    }
    if let Some(v) = c.connection_log {
        settings.connection_log = v;
    }
    if let Some(v) = c.dns_servers {
        settings.dns_servers = v;
    }
    if let Some(v) = c.vpn_port {
        settings.vpn_port = v;
    }
    if let Some(v) = c.description {
        settings.description = v;
    }
    if let Some(v) = c.split_tunnel {
        settings.split_tunnel = v;
    }
    if let Some((vpc, groups)) = c.vpc {
        settings.vpc_id = Some(vpc);
        settings.security_group_ids = groups;
    }
    if let Some(v) = c.self_service_portal {
        settings.self_service_portal = v;
    }
    if let Some(v) = c.client_connect {
        settings.client_connect = v;
    }
    if let Some(v) = c.session_timeout_hours {
        settings.session_timeout_hours = v;
    }
    if let Some(v) = c.login_banner {
        settings.login_banner = v;
    }
    if let Some(v) = c.disconnect_on_session_timeout {
        settings.disconnect_on_session_timeout = v;
    }
    if let Some(v) = c.route_enforcement {
        settings.route_enforcement = v;
    }
}

/// The settings and fixed facts AWS reports for an endpoint created from `spec`.
pub fn as_created(spec: &ClientVpnEndpointSpec) -> (EndpointSettings, FixedSettings) {
    let mut settings = aws_defaults();
    let change = settings_to_modify(spec, &settings);
    apply_modify(&mut settings, &change);
    if let Some((vpc, groups)) = security_groups_to_apply(spec, &settings) {
        settings.vpc_id = Some(vpc);
        settings.security_group_ids = groups;
    }
    let fixed = FixedSettings {
        client_cidr_block: spec.client_cidr_block.clone(),
        transport_protocol: spec.transport_protocol.wire().into(),
        authentication: spec
            .authentication_options
            .iter()
            .map(|a| AuthenticationFact {
                type_: a.type_.wire().into(),
                reference: a.reference().map(str::to_string),
                self_service_reference: None,
            })
            .collect(),
        endpoint_ip_address_type: spec.endpoint_ip_address_type.wire().into(),
        traffic_ip_address_type: spec.traffic_ip_address_type.wire().into(),
    };
    (settings, fixed)
}

impl FakeCloud {
    /// Calls made so far, e.g. `["List", "Create"]`; clears the record.
    pub fn take_calls(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().expect("lock").calls)
    }

    /// Make the next call of `operation` fail with `code` (classified like AWS's).
    pub fn fail_next(&self, operation: &'static str, code: &str, http_status: u16) {
        let err = CloudError::from_service(
            operation,
            code,
            &format!("injected {code}"),
            Some(http_status),
            Some("req-1".into()),
        );
        self.state
            .lock()
            .expect("lock")
            .failures
            .push_back((operation, err));
    }

    /// An endpoint that already exists in AWS (e.g. created before a crash).
    pub fn insert(&self, endpoint: ObservedEndpoint) {
        self.state
            .lock()
            .expect("lock")
            .endpoints
            .push((String::new(), endpoint));
    }

    /// An endpoint created earlier for the fixture object (matching its spec and tags).
    pub fn insert_owned(&self, id: &str, code: &str) {
        let obj = ClientVpnEndpoint::test();
        let (settings, fixed) = as_created(&obj.spec);
        let tags = super::creation_tags(&obj, UID, CLUSTER);
        self.insert(ObservedEndpoint {
            id: id.into(),
            status_code: code.into(),
            dns_name: Some(format!("*.{id}.prod.clientvpn.us-east-1.amazonaws.com")),
            creation_time: Some("2026-11-27T00:00:00".into()),
            settings,
            fixed,
            tags,
            ..Default::default()
        });
    }

    /// AWS stops listing a deleted endpoint (Describe then reports it not found).
    pub fn remove_endpoint(&self, id: &str) {
        self.state
            .lock()
            .expect("lock")
            .endpoints
            .retain(|(_, e)| e.id != id);
    }

    /// AWS finishes deleting: `deleting` endpoints become `deleted`.
    pub fn finish_deletions(&self) {
        for (_, e) in self.state.lock().expect("lock").endpoints.iter_mut() {
            if e.status_code == status_code::DELETING {
                e.status_code = status_code::DELETED.into();
            }
        }
    }

    /// AWS finishes every transition of children (and the endpoint availability they imply).
    pub fn finish_transitions(&self) {
        let mut state = self.state.lock().expect("lock");
        let CloudState {
            endpoints,
            children,
            ..
        } = &mut *state;
        for (id, kids) in children.iter_mut() {
            kids.networks.retain(|n| n.status_code != "disassociating");
            for n in &mut kids.networks {
                if n.status_code == "associating" {
                    n.status_code = "associated".into();
                }
            }
            kids.rules.retain(|r| r.status_code != "revoking");
            for r in &mut kids.rules {
                r.status_code = "active".into();
            }
            kids.routes.retain(|r| r.status_code != "deleting");
            for r in &mut kids.routes {
                r.status_code = "active".into();
            }
            let available = kids.networks.iter().any(|n| n.status_code == "associated");
            if let Some((_, e)) = endpoints.iter_mut().find(|(_, e)| e.id == *id)
                && !e.is_going_away()
            {
                e.status_code = if available {
                    status_code::AVAILABLE
                } else {
                    status_code::PENDING_ASSOCIATE
                }
                .into();
            }
        }
    }

    /// Change an endpoint directly in AWS (drift).
    pub fn edit_endpoint(&self, id: &str, edit: impl FnOnce(&mut ObservedEndpoint)) {
        let mut state = self.state.lock().expect("lock");
        let (_, endpoint) = state
            .endpoints
            .iter_mut()
            .find(|(_, e)| e.id == id)
            .expect("endpoint");
        edit(endpoint);
    }

    pub fn children(&self, id: &str) -> Children {
        self.state
            .lock()
            .expect("lock")
            .children
            .get(id)
            .cloned()
            .unwrap_or_default()
    }

    pub fn endpoints(&self) -> Vec<ObservedEndpoint> {
        self.state
            .lock()
            .expect("lock")
            .endpoints
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }

    fn enter(
        &self,
        operation: &'static str,
        name: &str,
    ) -> Result<std::sync::MutexGuard<'_, CloudState>, CloudError> {
        let mut state = self.state.lock().expect("lock");
        state.calls.push(name.into());
        if state
            .failures
            .front()
            .is_some_and(|(op, _)| *op == operation)
        {
            let (_, err) = state.failures.pop_front().expect("checked");
            return Err(err);
        }
        Ok(state)
    }
}

#[async_trait]
impl ClientVpnApi for FakeCloud {
    async fn create_endpoint(
        &self,
        _region: &str,
        request: &CreateEndpoint,
    ) -> Result<CreatedEndpoint, CloudError> {
        let mut state = self.enter("CreateClientVpnEndpoint", "Create")?;
        let existing = state
            .endpoints
            .iter()
            .find(|(token, _)| *token == request.client_token)
            .map(|(_, e)| e.clone());
        let endpoint = existing.unwrap_or_else(|| {
            let id = format!("cvpn-endpoint-{:017x}", state.endpoints.len() + 1);
            let (settings, fixed) = as_created(&request.spec);
            let endpoint = ObservedEndpoint {
                settings,
                fixed,
                dns_name: Some(format!("*.{id}.prod.clientvpn.us-east-1.amazonaws.com")),
                id,
                status_code: status_code::PENDING_ASSOCIATE.into(),
                creation_time: Some("2026-11-27T00:00:00".into()),
                tags: request.tags.clone(),
                ..Default::default()
            };
            state
                .endpoints
                .push((request.client_token.clone(), endpoint.clone()));
            endpoint
        });
        Ok(CreatedEndpoint {
            id: endpoint.id,
            dns_name: endpoint.dns_name,
            status_code: Some(endpoint.status_code),
            status_message: None,
        })
    }

    async fn describe_endpoint(
        &self,
        _region: &str,
        id: &str,
    ) -> Result<Option<ObservedEndpoint>, CloudError> {
        let state = self.enter("DescribeClientVpnEndpoints", "Describe")?;
        Ok(state
            .endpoints
            .iter()
            .map(|(_, e)| e)
            .find(|e| e.id == id)
            .cloned())
    }

    async fn delete_endpoint(&self, _region: &str, id: &str) -> Result<Option<String>, CloudError> {
        let mut state = self.enter("DeleteClientVpnEndpoint", "Delete")?;
        match state
            .endpoints
            .iter_mut()
            .map(|(_, e)| e)
            .find(|e| e.id == id)
        {
            Some(endpoint) => {
                endpoint.status_code = status_code::DELETING.into();
                Ok(Some(status_code::DELETING.into()))
            }
            None => Err(CloudError::from_service(
                "DeleteClientVpnEndpoint",
                "InvalidClientVpnEndpointId.NotFound",
                "gone",
                Some(400),
                None,
            )),
        }
    }

    async fn list_endpoints(&self, _region: &str) -> Result<Vec<ObservedEndpoint>, CloudError> {
        let state = self.enter("DescribeClientVpnEndpoints", "List")?;
        Ok(state.endpoints.iter().map(|(_, e)| e.clone()).collect())
    }

    async fn modify_endpoint(
        &self,
        _region: &str,
        id: &str,
        change: &ModifyEndpoint,
    ) -> Result<(), CloudError> {
        let mut state = self.enter("ModifyClientVpnEndpoint", "Modify")?;
        state.calls.pop();
        state
            .calls
            .push(format!("Modify[{}]", changed_fields(change).join(",")));
        apply_modify(&mut endpoint_mut(&mut state, id).settings, change);
        Ok(())
    }

    async fn create_tags(
        &self,
        _region: &str,
        id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        let mut state = self.enter("CreateTags", "CreateTags")?;
        endpoint_mut(&mut state, id).tags.extend(tags.clone());
        Ok(())
    }

    async fn delete_tags(
        &self,
        _region: &str,
        id: &str,
        keys: &[String],
    ) -> Result<(), CloudError> {
        let mut state = self.enter("DeleteTags", "DeleteTags")?;
        endpoint_mut(&mut state, id)
            .tags
            .retain(|k, _| !keys.contains(k));
        Ok(())
    }

    async fn describe_target_networks(
        &self,
        _region: &str,
        id: &str,
    ) -> Result<Vec<TargetNetwork>, CloudError> {
        let state = self.enter("DescribeClientVpnTargetNetworks", "DescribeNetworks")?;
        Ok(state
            .children
            .get(id)
            .map(|c| c.networks.clone())
            .unwrap_or_default())
    }

    async fn associate_target_network(
        &self,
        _region: &str,
        id: &str,
        subnet_id: &str,
        client_token: &str,
    ) -> Result<String, CloudError> {
        let mut state = self.enter("AssociateClientVpnTargetNetwork", "Associate")?;
        if let Some(existing) = state.tokens.get(client_token) {
            return Ok(existing.clone());
        }
        let association_id = format!("cvpn-assoc-{:017x}", state.tokens.len() + 1);
        state
            .tokens
            .insert(client_token.into(), association_id.clone());
        state
            .children
            .entry(id.into())
            .or_default()
            .networks
            .push(TargetNetwork {
                association_id: association_id.clone(),
                subnet_id: subnet_id.into(),
                status_code: "associating".into(),
                ..Default::default()
            });
        Ok(association_id)
    }

    async fn disassociate_target_network(
        &self,
        _region: &str,
        id: &str,
        association_id: &str,
    ) -> Result<(), CloudError> {
        let mut state = self.enter("DisassociateClientVpnTargetNetwork", "Disassociate")?;
        for n in state
            .children
            .entry(id.into())
            .or_default()
            .networks
            .iter_mut()
        {
            if n.association_id == association_id {
                n.status_code = "disassociating".into();
            }
        }
        Ok(())
    }

    async fn apply_security_groups(
        &self,
        _region: &str,
        id: &str,
        vpc_id: &str,
        security_group_ids: &[String],
    ) -> Result<(), CloudError> {
        let mut state = self.enter(
            "ApplySecurityGroupsToClientVpnTargetNetwork",
            "ApplySecurityGroups",
        )?;
        let endpoint = endpoint_mut(&mut state, id);
        endpoint.settings.vpc_id = Some(vpc_id.into());
        endpoint.settings.security_group_ids = security_group_ids.to_vec();
        Ok(())
    }

    async fn describe_authorization_rules(
        &self,
        _region: &str,
        id: &str,
    ) -> Result<Vec<AuthorizationRule>, CloudError> {
        let state = self.enter("DescribeClientVpnAuthorizationRules", "DescribeRules")?;
        Ok(state
            .children
            .get(id)
            .map(|c| c.rules.clone())
            .unwrap_or_default())
    }

    async fn authorize_ingress(
        &self,
        _region: &str,
        id: &str,
        rule: &RuleKey,
        description: Option<&str>,
        _client_token: &str,
    ) -> Result<(), CloudError> {
        let mut state = self.enter("AuthorizeClientVpnIngress", "Authorize")?;
        state
            .children
            .entry(id.into())
            .or_default()
            .rules
            .push(AuthorizationRule {
                key: rule.clone(),
                description: description.map(str::to_string),
                status_code: "authorizing".into(),
                status_message: None,
            });
        Ok(())
    }

    async fn revoke_ingress(
        &self,
        _region: &str,
        id: &str,
        rule: &RuleKey,
    ) -> Result<(), CloudError> {
        let mut state = self.enter("RevokeClientVpnIngress", "Revoke")?;
        for r in state
            .children
            .entry(id.into())
            .or_default()
            .rules
            .iter_mut()
        {
            if r.key == *rule {
                r.status_code = "revoking".into();
            }
        }
        Ok(())
    }

    async fn describe_routes(&self, _region: &str, id: &str) -> Result<Vec<Route>, CloudError> {
        let state = self.enter("DescribeClientVpnRoutes", "DescribeRoutes")?;
        Ok(state
            .children
            .get(id)
            .map(|c| c.routes.clone())
            .unwrap_or_default())
    }

    async fn create_route(
        &self,
        _region: &str,
        id: &str,
        route: &RouteKey,
        description: Option<&str>,
        _client_token: &str,
    ) -> Result<(), CloudError> {
        let mut state = self.enter("CreateClientVpnRoute", "CreateRoute")?;
        state
            .children
            .entry(id.into())
            .or_default()
            .routes
            .push(Route {
                key: route.clone(),
                origin: "add-route".into(),
                description: description.map(str::to_string),
                status_code: "creating".into(),
                status_message: None,
            });
        Ok(())
    }

    async fn delete_route(
        &self,
        _region: &str,
        id: &str,
        route: &RouteKey,
    ) -> Result<(), CloudError> {
        let mut state = self.enter("DeleteClientVpnRoute", "DeleteRoute")?;
        for r in state
            .children
            .entry(id.into())
            .or_default()
            .routes
            .iter_mut()
        {
            if r.key == *route {
                r.status_code = "deleting".into();
            }
        }
        Ok(())
    }

    async fn export_client_configuration(
        &self,
        _region: &str,
        id: &str,
    ) -> Result<String, CloudError> {
        let mut state = self.enter("ExportClientVpnClientConfiguration", "Export")?;
        let endpoint = endpoint_mut(&mut state, id);
        Ok(format!(
            "client\nremote {} {}\n",
            endpoint.id, endpoint.settings.vpn_port
        ))
    }
}

fn endpoint_mut<'a>(state: &'a mut CloudState, id: &str) -> &'a mut ObservedEndpoint {
    state
        .endpoints
        .iter_mut()
        .map(|(_, e)| e)
        .find(|e| e.id == id)
        .expect("endpoint exists")
}

/// An in-memory Kubernetes API for one object: records writes and applies them to the object.
pub struct FakeCluster {
    object: Mutex<Option<ClientVpnEndpoint>>,
    config_maps: Mutex<BTreeMap<String, (String, String)>>,
    notices: Mutex<Vec<Notice>>,
    fail_status_patches: Mutex<u32>,
    fail_finalizer_patches: Mutex<u32>,
}

impl FakeCluster {
    pub fn new(obj: ClientVpnEndpoint) -> Self {
        Self {
            object: Mutex::new(Some(obj)),
            config_maps: Mutex::default(),
            notices: Mutex::default(),
            fail_status_patches: Mutex::new(0),
            fail_finalizer_patches: Mutex::new(0),
        }
    }

    /// The object as the API server now stores it; `None` once its last finalizer went.
    pub fn object(&self) -> Option<ClientVpnEndpoint> {
        self.object.lock().expect("lock").clone()
    }

    /// Reasons of the events published so far (clears the record).
    pub fn take_reasons(&self) -> Vec<String> {
        std::mem::take(&mut *self.notices.lock().expect("lock"))
            .into_iter()
            .map(|n| n.reason)
            .collect()
    }

    pub fn take_notices(&self) -> Vec<Notice> {
        std::mem::take(&mut *self.notices.lock().expect("lock"))
    }

    /// A client-configuration ConfigMap's (text, fingerprint).
    pub fn config_map(&self, name: &str) -> Option<(String, String)> {
        self.config_maps.lock().expect("lock").get(name).cloned()
    }

    /// Set an annotation on the object (no generation change).
    pub fn annotate(&self, key: &str, value: &str) {
        let mut guard = self.object.lock().expect("lock");
        let obj = guard.as_mut().expect("object exists");
        obj.metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(key.into(), value.into());
    }

    /// Make the next `n` status writes fail (e.g. the operator crashed before writing).
    pub fn fail_status_patches(&self, n: u32) {
        *self.fail_status_patches.lock().expect("lock") = n;
    }

    /// Make the next `n` finalizer additions fail as if the API server were unreachable.
    pub fn fail_finalizer_patches(&self, n: u32) {
        *self.fail_finalizer_patches.lock().expect("lock") = n;
    }

    /// A user edit that changes the spec (bumps the generation).
    pub fn edit_spec(&self, edit: impl FnOnce(&mut ClientVpnEndpointSpec)) {
        let mut guard = self.object.lock().expect("lock");
        let obj = guard.as_mut().expect("object exists");
        edit(&mut obj.spec);
        obj.metadata.generation = obj.metadata.generation.map(|g| g + 1);
    }

    pub fn delete(&self) {
        let mut guard = self.object.lock().expect("lock");
        let obj = guard.take().expect("object exists").needs_delete();
        *guard = Some(obj);
    }

    fn set_finalizers(&self, finalizers: Vec<String>) {
        let mut guard = self.object.lock().expect("lock");
        let gone = finalizers.is_empty()
            && guard
                .as_ref()
                .is_some_and(|o| o.metadata.deletion_timestamp.is_some());
        if gone {
            *guard = None;
        } else if let Some(obj) = guard.as_mut() {
            obj.metadata.finalizers = Some(finalizers);
        }
    }
}

/// Fail (and count down) while an injected failure counter is above zero.
fn injected_failure(counter: &Mutex<u32>) -> Result<(), kube::Error> {
    let mut failures = counter.lock().expect("lock");
    if *failures > 0 {
        *failures -= 1;
        return Err(kube::Error::Service(
            "injected: API server unreachable".into(),
        ));
    }
    Ok(())
}

#[async_trait]
impl Cluster for FakeCluster {
    async fn add_finalizer(&self, obj: &ClientVpnEndpoint) -> Result<(), kube::Error> {
        injected_failure(&self.fail_finalizer_patches)?;
        let mut finalizers = obj.metadata.finalizers.clone().unwrap_or_default();
        finalizers.push(FINALIZER.into());
        self.set_finalizers(finalizers);
        Ok(())
    }

    async fn remove_finalizer(&self, obj: &ClientVpnEndpoint) -> Result<(), kube::Error> {
        let finalizers = obj
            .metadata
            .finalizers
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|f| f != FINALIZER)
            .collect();
        self.set_finalizers(finalizers);
        Ok(())
    }

    async fn patch_status(
        &self,
        _obj: &ClientVpnEndpoint,
        status: &ClientVpnEndpointStatus,
    ) -> Result<(), kube::Error> {
        injected_failure(&self.fail_status_patches)?;
        if let Some(obj) = self.object.lock().expect("lock").as_mut() {
            obj.status = Some(status.clone());
        }
        Ok(())
    }

    async fn publish(&self, _obj: &ClientVpnEndpoint, notice: Notice) {
        self.notices.lock().expect("lock").push(notice);
    }

    async fn config_map_fingerprint(
        &self,
        _namespace: &str,
        name: &str,
    ) -> Result<Option<String>, kube::Error> {
        Ok(self.config_map(name).map(|(_, fingerprint)| fingerprint))
    }

    async fn apply_config_map(
        &self,
        _obj: &ClientVpnEndpoint,
        name: &str,
        ovpn: &str,
        fingerprint: &str,
    ) -> Result<(), kube::Error> {
        self.config_maps
            .lock()
            .expect("lock")
            .insert(name.into(), (ovpn.into(), fingerprint.into()));
        Ok(())
    }
}

/// One object, the fakes, and the production `Context` around them.
pub struct Harness {
    pub cloud: Arc<FakeCloud>,
    pub cluster: Arc<FakeCluster>,
    pub ctx: Arc<Context>,
}

impl Harness {
    pub fn new(obj: ClientVpnEndpoint) -> Self {
        let cloud = Arc::new(FakeCloud::default());
        let cluster = Arc::new(FakeCluster::new(obj));
        let settings = Settings {
            default_region: Some("us-east-1".into()),
            cluster_name: CLUSTER.into(),
            resync_interval: Duration::from_secs(300),
            children_resync_interval: Duration::from_secs(24 * 3600),
            poll_interval: Duration::from_secs(5),
            stalled_retry_interval: Duration::from_secs(1800),
            retry_base: Duration::from_secs(2),
        };
        let ctx = Arc::new(Context::new(cloud.clone(), cluster.clone(), settings));
        Self {
            cloud,
            cluster,
            ctx,
        }
    }

    /// The same AWS and API server seen by a freshly started operator (no in-memory state).
    pub fn restarted(&self) -> Self {
        let ctx = Arc::new(Context::new(
            self.cloud.clone(),
            self.cluster.clone(),
            self.ctx.settings.clone(),
        ));
        Self {
            cloud: self.cloud.clone(),
            cluster: self.cluster.clone(),
            ctx,
        }
    }

    /// Reconcile the object as it is now stored.
    pub async fn reconcile(&self) -> Result<Action, Error> {
        let obj = self.cluster.object().expect("object exists");
        reconcile(Arc::new(obj), self.ctx.clone()).await
    }

    pub fn status(&self) -> ClientVpnEndpointStatus {
        self.cluster
            .object()
            .and_then(|o| o.status)
            .unwrap_or_default()
    }

    pub fn condition(&self, type_: &str) -> Option<(String, String, String)> {
        self.status()
            .conditions
            .into_iter()
            .find(|c| c.type_ == type_)
            .map(|c| (c.status, c.reason, c.message))
    }
}
