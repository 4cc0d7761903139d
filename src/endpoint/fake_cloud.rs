//! An in-memory EC2 Client VPN for controller tests: idempotent create by token, deletion in
//! two steps, children with explicit transitions, and a record of every call in order.
//!
//! It stays beside the emulator because controller tests run on tokio's paused clock (resync
//! intervals of minutes pass in no time) and assert the exact order of calls; the emulator keeps
//! real time and counts calls per action. Its state comes only from what the operator sent and
//! from hand-written AWS answers (`plan::test_support`), never from the code under test.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;

use super::fixtures::{CLUSTER, UID};
use super::plan::changed_fields;
use super::plan::test_support::aws_endpoint;
use super::plan::{Children, ownership_tags};
use crate::api::ClientVpnEndpoint;
use crate::cloud::*;

/// An in-memory EC2 Client VPN: idempotent create by token, deletion in two steps.
#[derive(Default)]
pub struct FakeCloud {
    state: Mutex<CloudState>,
}

#[derive(Default)]
struct CloudState {
    endpoints: Vec<(String, ObservedEndpoint)>,
    children: BTreeMap<String, Children>,
    /// Association client tokens: endpoint, subnet and the association they created.
    tokens: BTreeMap<String, (String, String, String)>,
    calls: Vec<String>,
    failures: VecDeque<(&'static str, CloudError)>,
}

impl CloudState {
    fn endpoint(&mut self, id: &str) -> Option<&mut ObservedEndpoint> {
        self.endpoints
            .iter_mut()
            .map(|(_, e)| e)
            .find(|e| e.id == id)
    }

    fn endpoint_mut(&mut self, id: &str) -> &mut ObservedEndpoint {
        self.endpoint(id).expect("endpoint exists")
    }

    /// The endpoint's children as AWS stores them (none yet: an empty set).
    fn kids(&mut self, id: &str) -> &mut Children {
        self.children.entry(id.into()).or_default()
    }

    /// What a `DescribeClientVpn*` of the endpoint's children lists.
    fn listed<T: Clone>(&self, id: &str, which: impl Fn(&Children) -> &Vec<T>) -> Vec<T> {
        self.children
            .get(id)
            .map(which)
            .cloned()
            .unwrap_or_default()
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
        settings.self_service_portal = Some(v);
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

impl FakeCloud {
    /// Calls made so far, e.g. `["List", "Create"]`; clears the record.
    pub fn take_calls(&self) -> Vec<String> {
        std::mem::take(&mut self.lock().calls)
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
        self.lock().failures.push_back((operation, err));
    }

    /// An endpoint that already exists in AWS (e.g. created before a crash).
    pub fn insert(&self, endpoint: ObservedEndpoint) {
        self.lock().endpoints.push((String::new(), endpoint));
    }

    /// An endpoint created earlier for the fixture object: as AWS reports it (hand-written in
    /// `plan::test_support`), with the object's ownership tags.
    pub fn insert_owned(&self, id: &str, code: &str) {
        let obj = ClientVpnEndpoint::test();
        let tags = ownership_tags(&obj, UID, CLUSTER);
        self.insert(ObservedEndpoint {
            dns_name: Some(format!("*.{id}.prod.clientvpn.us-east-1.amazonaws.com")),
            creation_time: Some("2026-11-27T00:00:00".into()),
            ..aws_endpoint(id, code, tags)
        });
    }

    /// AWS stops listing a deleted endpoint (Describe then reports it not found).
    pub fn remove_endpoint(&self, id: &str) {
        self.lock().endpoints.retain(|(_, e)| e.id != id);
    }

    /// AWS finishes deleting: `deleting` endpoints become `deleted`.
    pub fn finish_deletions(&self) {
        for (_, e) in self.lock().endpoints.iter_mut() {
            if e.status_code == status_code::DELETING {
                e.status_code = status_code::DELETED.into();
            }
        }
    }

    /// AWS finishes every transition of children (and the endpoint availability they imply).
    pub fn finish_transitions(&self) {
        let mut state = self.lock();
        let CloudState {
            endpoints,
            children,
            ..
        } = &mut *state;
        for (id, kids) in children.iter_mut() {
            kids.networks
                .retain(|n| n.state != AssociationState::Disassociating);
            for n in &mut kids.networks {
                if n.state == AssociationState::Associating {
                    n.state = AssociationState::Associated;
                }
            }
            kids.rules.retain(|r| r.state != RuleState::Revoking);
            for r in &mut kids.rules {
                r.state = RuleState::Active;
            }
            kids.routes.retain(|r| r.state != RouteState::Deleting);
            for r in &mut kids.routes {
                r.state = RouteState::Active;
            }
            let available = kids
                .networks
                .iter()
                .any(|n| n.state == AssociationState::Associated);
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
        edit(self.lock().endpoint_mut(id));
    }

    pub fn children(&self, id: &str) -> Children {
        self.lock().children.get(id).cloned().unwrap_or_default()
    }

    pub fn endpoints(&self) -> Vec<ObservedEndpoint> {
        self.lock()
            .endpoints
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CloudState> {
        self.state.lock().expect("lock")
    }

    fn enter(
        &self,
        operation: &'static str,
        name: &str,
    ) -> Result<std::sync::MutexGuard<'_, CloudState>, CloudError> {
        let mut state = self.lock();
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
            // AWS stores what was sent and reports no portal unless one was asked for.
            let mut settings = request.settings.clone();
            settings.self_service_portal = Some(settings.self_service_portal.unwrap_or(false));
            let endpoint = ObservedEndpoint {
                settings,
                fixed: request.fixed.clone(),
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
        let mut state = self.enter("DescribeClientVpnEndpoints", "Describe")?;
        Ok(state.endpoint(id).cloned())
    }

    async fn delete_endpoint(&self, _region: &str, id: &str) -> Result<Option<String>, CloudError> {
        let mut state = self.enter("DeleteClientVpnEndpoint", "Delete")?;
        match state.endpoint(id) {
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
        apply_modify(&mut state.endpoint_mut(id).settings, change);
        Ok(())
    }

    async fn create_tags(
        &self,
        _region: &str,
        id: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        let mut state = self.enter("CreateTags", "CreateTags")?;
        state.endpoint_mut(id).tags.extend(tags.clone());
        Ok(())
    }

    async fn delete_tags(
        &self,
        _region: &str,
        id: &str,
        keys: &[String],
    ) -> Result<(), CloudError> {
        let mut state = self.enter("DeleteTags", "DeleteTags")?;
        state.endpoint_mut(id).tags.retain(|k, _| !keys.contains(k));
        Ok(())
    }

    async fn describe_target_networks(
        &self,
        _region: &str,
        id: &str,
    ) -> Result<Vec<TargetNetwork>, CloudError> {
        let state = self.enter("DescribeClientVpnTargetNetworks", "DescribeNetworks")?;
        Ok(state.listed(id, |c| &c.networks))
    }

    async fn associate_target_network(
        &self,
        _region: &str,
        id: &str,
        subnet_id: &str,
        client_token: &str,
    ) -> Result<String, CloudError> {
        let mut state = self.enter("AssociateClientVpnTargetNetwork", "Associate")?;
        // AWS answers a reused token with the earlier association only for the same request;
        // the same token for another endpoint or subnet is a mismatch.
        if let Some((endpoint, subnet, existing)) = state.tokens.get(client_token) {
            if endpoint == id && subnet == subnet_id {
                return Ok(existing.clone());
            }
            return Err(CloudError::from_service(
                "AssociateClientVpnTargetNetwork",
                "IdempotentParameterMismatch",
                &format!(
                    "The client token {client_token} was already used in a request with different parameters"
                ),
                Some(400),
                None,
            ));
        }
        let association_id = format!("cvpn-assoc-{:017x}", state.tokens.len() + 1);
        state.tokens.insert(
            client_token.into(),
            (id.into(), subnet_id.into(), association_id.clone()),
        );
        state.kids(id).networks.push(TargetNetwork {
            association_id: association_id.clone(),
            subnet_id: subnet_id.into(),
            state: AssociationState::Associating,
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
        for n in state.kids(id).networks.iter_mut() {
            if n.association_id == association_id {
                n.state = AssociationState::Disassociating;
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
        let endpoint = state.endpoint_mut(id);
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
        Ok(state.listed(id, |c| &c.rules))
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
        state.kids(id).rules.push(AuthorizationRule {
            key: rule.clone(),
            description: description.map(str::to_string),
            state: RuleState::Authorizing,
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
        for r in state.kids(id).rules.iter_mut() {
            if r.key == *rule {
                r.state = RuleState::Revoking;
            }
        }
        Ok(())
    }

    async fn describe_routes(&self, _region: &str, id: &str) -> Result<Vec<Route>, CloudError> {
        let state = self.enter("DescribeClientVpnRoutes", "DescribeRoutes")?;
        Ok(state.listed(id, |c| &c.routes))
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
        state.kids(id).routes.push(Route {
            key: route.clone(),
            origin: RouteOrigin::AddRoute,
            description: description.map(str::to_string),
            state: RouteState::Creating,
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
        for r in state.kids(id).routes.iter_mut() {
            if r.key == *route {
                r.state = RouteState::Deleting;
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
        let endpoint = state.endpoint_mut(id);
        Ok(format!(
            "client\nremote {} {}\n",
            endpoint.id, endpoint.settings.vpn_port
        ))
    }
}
