//! What the adapter tests share: the adapter under test, the emulator's conventions, specs and
//! their expected settings, and small assertions.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_ec2::config::retry::RetryConfig;
use clientvpn_operator::api::{ClientVpnEndpointSpec, SelfServicePortal, WireValue};
use clientvpn_operator::cloud::{
    AuthenticationFact, ClientConnect, ClientVpnApi, CloudError, ConnectionLog, CreateEndpoint,
    Ec2ClientVpn, EndpointSettings, ErrorKind, FixedSettings, LoginBanner, ModifyEndpoint,
    ObservedEndpoint, Pacer, PacingConfig, Rate,
};
use clientvpn_operator::endpoint::plan::desired_endpoint;
use clientvpn_operator::metrics::Metrics;
use serde_json::{Value, json};

use crate::emulator::Emulator;

/// Upper bound for any lifecycle transition with the emulator's tiny delays.
const WAIT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(25);

// ---------------------------------------------------------------------------------------------
// The adapter under test

/// [`Ec2ClientVpn`] with the metrics and pacer it reports to.
pub struct Adapter {
    pub api: Ec2ClientVpn,
    pub metrics: Arc<Metrics>,
    pub pacer: Arc<Pacer>,
}

impl Adapter {
    /// The adapter at `url` as account `access_key` (the emulator keeps accounts apart), with
    /// the SDK's `retry` configuration and `pacing`.
    pub async fn at(url: &str, access_key: &str, retry: RetryConfig, pacing: PacingConfig) -> Self {
        let metrics = Arc::new(Metrics::new());
        let pacer = Arc::new(Pacer::new(pacing));
        let api = Ec2ClientVpn::new(sdk_config(url, access_key, retry).await)
            .with_pacer(pacer.clone())
            .with_metrics(metrics.clone());
        Self {
            api,
            metrics,
            pacer,
        }
    }

    /// How many attempts of `operation` ended with `outcome`, from the metrics text.
    pub fn attempts(&self, operation: &str, outcome: &str) -> u64 {
        let series = format!(
            r#"clientvpn_operator_aws_api_requests_total{{operation="{operation}",outcome="{outcome}"}} "#
        );
        let text = self.metrics.encode();
        text.lines()
            .find_map(|line| line.strip_prefix(&series))
            .map_or(0, |value| value.parse().expect("a count"))
    }
}

/// No SDK retries, so one injected fault is one failed call; no pacing limits.
pub fn no_retries() -> (RetryConfig, PacingConfig) {
    let pacing = PacingConfig {
        non_mutating: Rate::UNLIMITED,
        mutating: Rate::UNLIMITED,
        ..PacingConfig::default()
    };
    (RetryConfig::disabled(), pacing)
}

/// The adapter against `emulator`, as account `access_key`, without retries or limits.
pub async fn adapter(emulator: &Emulator, access_key: &str) -> Ec2ClientVpn {
    instrumented(emulator, access_key).await.api
}

/// [`adapter`] with its metrics and pacer.
pub async fn instrumented(emulator: &Emulator, access_key: &str) -> Adapter {
    let (retry, pacing) = no_retries();
    Adapter::at(&emulator.url(), access_key, retry, pacing).await
}

/// The shared launcher's SDK configuration with `retry` instead of the default retries.
async fn sdk_config(url: &str, access_key: &str, retry: RetryConfig) -> SdkConfig {
    crate::emulator::sdk_config(url, access_key)
        .await
        .to_builder()
        .retry_config(retry)
        .build()
}

// ---------------------------------------------------------------------------------------------
// The emulator's resources: IDs follow its conventions, ARNs are accepted as they are

pub use crate::emulator::REGION;
/// A subnet of `vpc-0123456789abcdef0` (10.1.0.0/16) by the emulator's id conventions.
pub const SUBNET: &str = "subnet-0123456789abcdef1";
pub const VPC: &str = "vpc-0123456789abcdef0";
/// The VPC's CIDR, which the automatic route of an association targets.
pub const VPC_CIDR: &str = "10.1.0.0/16";
/// The VPC's default security group.
pub const DEFAULT_SG: &str = "sg-0123456789abcdef0";
pub const SERVER_CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/server";
pub const ROOT_CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/root";
pub const SAML: &str = "arn:aws:iam::123456789012:saml-provider/idp";
pub const SAML_PORTAL: &str = "arn:aws:iam::123456789012:saml-provider/portal";
pub const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:AWSClientVPN-check";
/// Well-formed, never created.
pub const UNKNOWN_ENDPOINT: &str = "cvpn-endpoint-0fedcba9876543210";

// ---------------------------------------------------------------------------------------------
// Specs and what AWS reports for them

fn spec(value: Value) -> ClientVpnEndpointSpec {
    serde_json::from_value(value).expect("valid spec")
}

fn certificate_authentication() -> Value {
    json!({"type": "certificate-authentication",
           "mutualAuthentication": {"clientRootCertificateChainArn": ROOT_CERT}})
}

fn federated_authentication() -> Value {
    json!({"type": "federated-authentication",
           "federatedAuthentication": {"samlProviderArn": SAML,
                                       "selfServiceSamlProviderArn": SAML_PORTAL}})
}

/// The required fields, with these authentication options.
fn required(authentication: &[Value]) -> Value {
    json!({
        "clientCidrBlock": "10.100.0.0/22",
        "serverCertificateArn": SERVER_CERT,
        "authenticationOptions": authentication
    })
}

/// The smallest spec AWS accepts: certificate authentication only.
pub fn minimal_spec() -> ClientVpnEndpointSpec {
    spec(required(&[certificate_authentication()]))
}

/// Certificate + federated authentication, so the self-service portal may be enabled.
pub fn federated_spec() -> ClientVpnEndpointSpec {
    spec(required(&[
        certificate_authentication(),
        federated_authentication(),
    ]))
}

/// [`federated_spec`] plus every field a VPC-based endpoint can have.
pub fn full_spec() -> ClientVpnEndpointSpec {
    let mut value = required(&[certificate_authentication(), federated_authentication()]);
    // Alphabetical, as `kubectl explain` lists them.
    let fields = json!({
        "clientConnectOptions": {"enabled": true, "lambdaFunctionArn": LAMBDA},
        "clientLoginBannerOptions": {"enabled": true, "bannerText": "Authorized use only"},
        "clientRouteEnforcementOptions": {"enforced": true},
        "connectionLogOptions": {"enabled": true, "cloudwatchLogGroup": "vpn",
                                 "cloudwatchLogStream": "conn",
                                 "includeAuthorizationPolicyContext": true},
        "description": "office VPN",
        "disconnectOnSessionTimeout": false,
        "dnsServers": ["10.0.0.3", "10.0.0.2"],
        "endpointIpAddressType": "ipv4",
        "region": REGION,
        "securityGroupIds": ["sg-0123456789abcdef2", "sg-0123456789abcdef1"],
        "selfServicePortal": "enabled",
        "sessionTimeoutHours": 12,
        "splitTunnel": true,
        "tags": {"team": "net"},
        "trafficIpAddressType": "ipv4",
        "transportProtocol": "tcp",
        "vpcId": VPC,
        "vpnPort": 1194
    });
    for (field, v) in fields.as_object().expect("an object") {
        value[field] = v.clone();
    }
    spec(value)
}

/// What Describe should report for `spec`: the spec with AWS's defaults filled in.
pub fn expected_settings(spec: &ClientVpnEndpointSpec) -> EndpointSettings {
    let mut security_group_ids = spec.security_group_ids.clone();
    security_group_ids.sort();
    let connection_log = spec.connection_log_options.as_ref().map(|o| ConnectionLog {
        enabled: o.enabled,
        log_group: o.cloudwatch_log_group.clone(),
        log_stream: o.cloudwatch_log_stream.clone(),
        include_authorization_policy_context: o.include_authorization_policy_context == Some(true),
    });
    let client_connect = spec.client_connect_options.as_ref().map(|c| ClientConnect {
        enabled: c.enabled,
        lambda_function_arn: c.lambda_function_arn.clone(),
    });
    let login_banner = spec
        .client_login_banner_options
        .as_ref()
        .map(|b| LoginBanner {
            enabled: b.enabled,
            text: b.banner_text.clone(),
        });
    EndpointSettings {
        server_certificate_arn: spec.server_certificate_arn.clone().unwrap_or_default(),
        connection_log: connection_log.unwrap_or_default(),
        dns_servers: spec.dns_servers.clone(),
        vpn_port: spec.vpn_port.unwrap_or(443),
        description: spec.description.clone().unwrap_or_default(),
        split_tunnel: spec.split_tunnel.unwrap_or(false),
        vpc_id: spec.vpc_id.clone(),
        security_group_ids,
        self_service_portal: Some(spec.self_service_portal == Some(SelfServicePortal::Enabled)),
        client_connect: client_connect.unwrap_or_default(),
        session_timeout_hours: spec.session_timeout_hours.unwrap_or(24),
        login_banner: login_banner.unwrap_or_default(),
        disconnect_on_session_timeout: spec.disconnect_on_session_timeout.unwrap_or(true),
        route_enforcement: spec
            .client_route_enforcement_options
            .as_ref()
            .is_some_and(|o| o.enforced),
    }
}

/// What Describe should report as `spec`'s fixed settings.
pub fn expected_fixed(spec: &ClientVpnEndpointSpec) -> FixedSettings {
    let authentication = spec.authentication_options.iter().map(|option| {
        let federated = option.federated_authentication.as_ref();
        let mutual = option.mutual_authentication.as_ref();
        let reference = (mutual.and_then(|m| m.client_root_certificate_chain_arn.as_ref()))
            .or(option.active_directory.as_ref().map(|d| &d.directory_id))
            .or(federated.map(|f| &f.saml_provider_arn));
        AuthenticationFact {
            type_: option.type_.wire().into(),
            reference: reference.cloned(),
            self_service_reference: federated
                .and_then(|f| f.self_service_saml_provider_arn.clone()),
        }
    });
    FixedSettings {
        client_cidr_block: spec.client_cidr_block.clone(),
        transport_protocol: spec.transport_protocol.wire().into(),
        authentication: authentication.collect(),
        endpoint_ip_address_type: spec.endpoint_ip_address_type.wire().into(),
        traffic_ip_address_type: spec.traffic_ip_address_type.wire().into(),
    }
}

/// One authentication option as Describe reports it.
pub fn fact(type_: &str, reference: &str, self_service: Option<&str>) -> AuthenticationFact {
    AuthenticationFact {
        type_: type_.into(),
        reference: Some(reference.into()),
        self_service_reference: self_service.map(str::to_string),
    }
}

/// A change that sets only what `set` sets.
pub fn change(set: fn(&mut ModifyEndpoint)) -> ModifyEndpoint {
    let mut change = ModifyEndpoint::default();
    set(&mut change);
    change
}

/// Create `spec` with token `token`, tagged with the UID tag and `extra_tags`.
pub fn create_request(
    spec: ClientVpnEndpointSpec,
    token: &str,
    extra_tags: &[(&str, &str)],
) -> CreateEndpoint {
    let mut tags = spec.tags.clone();
    tags.insert("clientvpn.io/uid".into(), token.into());
    for (key, value) in extra_tags {
        tags.insert((*key).into(), (*value).into());
    }
    desired_endpoint(&spec).create_request(token.into(), tags)
}

// ---------------------------------------------------------------------------------------------
// Calls and assertions

/// Create `spec` (token `token`) and return the endpoint ID.
pub async fn created(api: &Ec2ClientVpn, spec: ClientVpnEndpointSpec, token: &str) -> String {
    let request = create_request(spec, token, &[]);
    api.create_endpoint(REGION, &request)
        .await
        .expect("create")
        .id
}

pub async fn describe(api: &Ec2ClientVpn, id: &str) -> ObservedEndpoint {
    api.describe_endpoint(REGION, id)
        .await
        .expect("describe")
        .expect("endpoint exists")
}

/// Poll `probe` until it yields `Some`, failing after [`WAIT`].
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Poll the listing `list` until `done` holds for the whole list; returns that list.
pub async fn settled<T, F, Fut>(what: &str, list: F, done: impl Fn(&[T]) -> bool) -> Vec<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Vec<T>, CloudError>>,
{
    eventually(what, || async {
        let items = list().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        done(&items).then_some(items)
    })
    .await
}

#[track_caller]
pub fn assert_kind<T: std::fmt::Debug>(result: Result<T, CloudError>, kind: ErrorKind, code: &str) {
    let err = result.expect_err("the call should fail");
    assert_eq!(
        (err.kind, err.code.as_str()),
        (kind, code),
        "unexpected error {err:?}"
    );
    assert!(err.request_id.is_some(), "no request id in {err:?}");
}
