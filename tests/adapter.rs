//! Adapter ↔ emulator: [`Ec2ClientVpn`], i.e. the real aws-sdk-ec2 client over HTTP, against a
//! `clientvpn-emulator` process on port 0. Every trait method goes over the wire; the emulator
//! rejects unknown or misspelled parameters, so a serialization mistake fails here.
//!
//! Each test starts its own emulator (a few milliseconds) with tiny lifecycle delays, so tests
//! run in parallel and the control API's call counters belong to one test. The binary comes from
//! `CLIENTVPN_EMULATOR_BIN`, else it is built with cargo into `$CARGO_TARGET_DIR` (default
//! `<repo>/target`).

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_ec2::config::Credentials;
use aws_sdk_ec2::config::retry::RetryConfig;
use clientvpn_operator::api::ClientVpnEndpointSpec;
use clientvpn_operator::cloud::{
    AssociationState, AuthenticationFact, ClientConnect, ClientVpnApi, CloudError, ConnectionLog,
    CreateEndpoint, Ec2ClientVpn, EndpointSettings, ErrorKind, FixedSettings, LoginBanner,
    ModifyEndpoint, ObservedEndpoint, RouteKey, RouteOrigin, RouteState, RuleKey, RuleState,
};
use futures::StreamExt;
use serde_json::{Value, json};

const REGION: &str = "us-east-1";
/// A subnet of `vpc-0123456789abcdef0` (10.1.0.0/16) by the emulator's id conventions.
const SUBNET: &str = "subnet-0123456789abcdef1";
const VPC: &str = "vpc-0123456789abcdef0";
/// The VPC's CIDR, which the automatic route of an association targets.
const VPC_CIDR: &str = "10.1.0.0/16";
/// The VPC's default security group.
const DEFAULT_SG: &str = "sg-0123456789abcdef0";
const SERVER_CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/server";
const ROOT_CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/root";
const SAML: &str = "arn:aws:iam::123456789012:saml-provider/idp";
const SAML_PORTAL: &str = "arn:aws:iam::123456789012:saml-provider/portal";
const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:AWSClientVPN-check";
/// Well-formed, never created.
const UNKNOWN_ENDPOINT: &str = "cvpn-endpoint-0fedcba9876543210";

/// Upper bound for any lifecycle transition with the tiny delays below.
const WAIT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(25);

// ---------------------------------------------------------------------------------------------
// The emulator process

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The emulator binary: `CLIENTVPN_EMULATOR_BIN`, else built once with cargo.
fn emulator_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("CLIENTVPN_EMULATOR_BIN") {
            return PathBuf::from(bin);
        }
        let out = Command::new(env!("CARGO"))
            .args([
                "build",
                "-q",
                "-p",
                "clientvpn-emulator",
                "--bin",
                "clientvpn-emulator",
            ])
            .current_dir(repo())
            .output()
            .expect("run cargo build for the emulator");
        assert!(
            out.status.success(),
            "building clientvpn-emulator failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("target"))
            .join("debug/clientvpn-emulator")
    })
}

/// One emulator process, owned by this test binary: a shell watches our PID and kills the
/// emulator when we go away (even on SIGKILL); dropping the handle stops it too.
struct Emulator {
    addr: String,
    watcher: Child,
    /// The emulator's stderr; kept when the test fails.
    log: PathBuf,
}

impl Emulator {
    /// Start an emulator with delays of a few tens of milliseconds; a `deleted` endpoint stays
    /// visible for `deleted_visible_ms`.
    fn start() -> Self {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let log = std::env::temp_dir().join(format!(
            "clientvpn-adapter-{}-{}.log",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        let script = r#"owner=$1; shift; log=$1; shift
"$@" 2>"$log" & child=$!
trap 'kill $child 2>/dev/null' EXIT TERM
while kill -0 "$owner" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.2; done"#;
        let mut watcher = Command::new("bash")
            .arg("-c")
            .arg(script)
            .arg("owned")
            .arg(std::process::id().to_string())
            .arg(&log)
            .arg(emulator_bin())
            .args([
                "--listen",
                "127.0.0.1:0",
                "--association-delay-ms",
                "100",
                "--rule-delay-ms",
                "50",
                "--route-delay-ms",
                "50",
                "--delete-delay-ms",
                "100",
                "--deleted-visible-ms",
                "800",
                // AWS's default quota is 5 per region; the listing test needs 1,003.
                "--max-endpoints-per-region",
                "10000",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the emulator");
        let mut first_line = String::new();
        BufReader::new(watcher.stdout.take().expect("stdout"))
            .read_line(&mut first_line)
            .expect("emulator prints its address");
        let addr = first_line.trim().to_string();
        assert!(
            addr.starts_with("127.0.0.1:"),
            "unexpected emulator address {addr:?}; log in {}",
            log.display()
        );
        Self { addr, watcher, log }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The adapter under test, as account `access_key` (the emulator keeps accounts apart).
    async fn adapter(&self, access_key: &str) -> Ec2ClientVpn {
        Ec2ClientVpn::new(sdk_config(&self.url(), access_key).await)
    }

    /// A call to the control API (`/_emulator/...`); panics unless it answers 2xx.
    fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut stream = TcpStream::connect(&self.addr).expect("connect to the emulator");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the answer");
        let (head, payload) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
        assert!(
            head.starts_with("HTTP/1.1 2"),
            "{method} {path}: {head}\n{payload}"
        );
        assert!(
            !head.to_ascii_lowercase().contains("chunked"),
            "unexpected chunked answer"
        );
        serde_json::from_str(payload).unwrap_or(Value::Null)
    }

    /// How many requests reached `action` so far.
    fn calls(&self, action: &str) -> u64 {
        self.control("GET", "/_emulator/calls", None)[action]
            .as_u64()
            .unwrap_or(0)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // SIGTERM to the watcher: its trap kills the emulator, then it exits.
        let _ = Command::new("kill")
            .arg(self.watcher.id().to_string())
            .status();
        let _ = self.watcher.wait();
        if std::thread::panicking() {
            eprintln!("emulator log: {}", self.log.display());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

async fn sdk_config(url: &str, access_key: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(access_key, "secret", None, None, "static"))
        .endpoint_url(url)
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// Poll `probe` until it yields `Some`, failing after [`WAIT`].
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
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

fn spec(value: Value) -> ClientVpnEndpointSpec {
    serde_json::from_value(value).expect("valid spec")
}

/// The smallest spec AWS accepts: certificate authentication only.
fn minimal_spec() -> ClientVpnEndpointSpec {
    spec(json!({
        "clientCidrBlock": "10.100.0.0/22",
        "serverCertificateArn": SERVER_CERT,
        "authenticationOptions": [{
            "type": "certificate-authentication",
            "mutualAuthentication": {"clientRootCertificateChainArn": ROOT_CERT}
        }]
    }))
}

/// Certificate + federated authentication, so the self-service portal may be enabled.
fn federated_spec() -> ClientVpnEndpointSpec {
    spec(json!({
        "clientCidrBlock": "10.100.0.0/22",
        "serverCertificateArn": SERVER_CERT,
        "authenticationOptions": [
            {"type": "certificate-authentication",
             "mutualAuthentication": {"clientRootCertificateChainArn": ROOT_CERT}},
            {"type": "federated-authentication",
             "federatedAuthentication": {"samlProviderArn": SAML,
                                         "selfServiceSamlProviderArn": SAML_PORTAL}}
        ]
    }))
}

/// A spec that sets every field a VPC-based endpoint can have.
fn full_spec() -> ClientVpnEndpointSpec {
    spec(json!({
        "region": REGION,
        "clientCidrBlock": "10.100.0.0/22",
        "serverCertificateArn": SERVER_CERT,
        "authenticationOptions": [
            {"type": "certificate-authentication",
             "mutualAuthentication": {"clientRootCertificateChainArn": ROOT_CERT}},
            {"type": "federated-authentication",
             "federatedAuthentication": {"samlProviderArn": SAML,
                                         "selfServiceSamlProviderArn": SAML_PORTAL}}
        ],
        "connectionLogOptions": {"enabled": true, "cloudwatchLogGroup": "vpn",
                                 "cloudwatchLogStream": "conn",
                                 "includeAuthorizationPolicyContext": true},
        "dnsServers": ["10.0.0.3", "10.0.0.2"],
        "description": "office VPN",
        "splitTunnel": true,
        "transportProtocol": "tcp",
        "vpnPort": 1194,
        "vpcId": VPC,
        "securityGroupIds": ["sg-0123456789abcdef2", "sg-0123456789abcdef1"],
        "selfServicePortal": "enabled",
        "clientConnectOptions": {"enabled": true, "lambdaFunctionArn": LAMBDA},
        "sessionTimeoutHours": 12,
        "clientLoginBannerOptions": {"enabled": true, "bannerText": "Authorized use only"},
        "disconnectOnSessionTimeout": false,
        "clientRouteEnforcementOptions": {"enforced": true},
        "endpointIpAddressType": "ipv4",
        "trafficIpAddressType": "ipv4",
        "tags": {"team": "net"}
    }))
}

/// What Describe should report for `spec`: the spec with AWS's defaults filled in.
fn expected_settings(spec: &ClientVpnEndpointSpec) -> EndpointSettings {
    let log = spec.connection_log_options.clone().unwrap_or_default();
    let mut security_group_ids = spec.security_group_ids.clone();
    security_group_ids.sort();
    EndpointSettings {
        server_certificate_arn: spec.server_certificate_arn.clone(),
        connection_log: ConnectionLog {
            enabled: log.enabled,
            log_group: log.cloudwatch_log_group,
            log_stream: log.cloudwatch_log_stream,
            include_authorization_policy_context: log
                .include_authorization_policy_context
                .unwrap_or(false),
        },
        dns_servers: spec.dns_servers.clone(),
        vpn_port: spec.vpn_port.unwrap_or(443),
        description: spec.description.clone().unwrap_or_default(),
        split_tunnel: spec.split_tunnel.unwrap_or(false),
        vpc_id: spec.vpc_id.clone(),
        security_group_ids,
        self_service_portal: Some(
            spec.self_service_portal
                .is_some_and(|p| p == clientvpn_operator::api::SelfServicePortal::Enabled),
        ),
        client_connect: spec
            .client_connect_options
            .as_ref()
            .map(|c| ClientConnect {
                enabled: c.enabled,
                lambda_function_arn: c.lambda_function_arn.clone(),
            })
            .unwrap_or_default(),
        session_timeout_hours: spec.session_timeout_hours.unwrap_or(24),
        login_banner: spec
            .client_login_banner_options
            .as_ref()
            .map(|b| LoginBanner {
                enabled: b.enabled,
                text: b.banner_text.clone(),
            })
            .unwrap_or_default(),
        disconnect_on_session_timeout: spec.disconnect_on_session_timeout.unwrap_or(true),
        route_enforcement: spec
            .client_route_enforcement_options
            .as_ref()
            .is_some_and(|o| o.enforced),
    }
}

fn create_request(
    spec: ClientVpnEndpointSpec,
    token: &str,
    extra_tags: &[(&str, &str)],
) -> CreateEndpoint {
    let mut tags = spec.tags.clone();
    tags.insert("clientvpn.io/uid".into(), token.into());
    for (key, value) in extra_tags {
        tags.insert((*key).into(), (*value).into());
    }
    clientvpn_operator::endpoint::plan::desired_endpoint(&spec).create_request(token.into(), tags)
}

async fn describe(api: &Ec2ClientVpn, id: &str) -> ObservedEndpoint {
    api.describe_endpoint(REGION, id)
        .await
        .expect("describe")
        .expect("endpoint exists")
}

#[track_caller]
fn assert_kind<T: std::fmt::Debug>(result: Result<T, CloudError>, kind: ErrorKind, code: &str) {
    let err = result.expect_err("the call should fail");
    assert_eq!(
        (err.kind, err.code.as_str()),
        (kind, code),
        "unexpected error {err:?}"
    );
    assert!(err.request_id.is_some(), "no request id in {err:?}");
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn create_is_idempotent_and_describe_reports_every_setting() {
    let emulator = Emulator::start();
    let api = emulator.adapter("AKIDCREATE").await;
    let spec = full_spec();
    let request = create_request(spec.clone(), "uid-full", &[]);

    let created = api.create_endpoint(REGION, &request).await.expect("create");
    assert!(created.id.starts_with("cvpn-endpoint-"), "{created:?}");
    assert_eq!(created.status_code.as_deref(), Some("pending-associate"));
    let dns_name = created.dns_name.clone().expect("dns name");
    assert_eq!(
        dns_name,
        format!("*.{}.prod.clientvpn.{REGION}.amazonaws.com", created.id)
    );

    let again = api
        .create_endpoint(REGION, &request)
        .await
        .expect("repeated create");
    assert_eq!(again.id, created.id, "same client token, same endpoint");
    assert_eq!(emulator.calls("CreateClientVpnEndpoint"), 2);
    assert_eq!(api.list_endpoints(REGION).await.expect("list").len(), 1);

    let mut changed = request.clone();
    changed.settings.description = "something else".into();
    assert_kind(
        api.create_endpoint(REGION, &changed).await,
        ErrorKind::Terminal,
        "IdempotentParameterMismatch",
    );

    let observed = describe(&api, &created.id).await;
    assert_eq!(observed.id, created.id);
    assert_eq!(observed.status_code, "pending-associate");
    assert_eq!(observed.dns_name.as_deref(), Some(dns_name.as_str()));
    assert!(observed.creation_time.is_some());
    assert_eq!(
        observed.self_service_portal_url,
        Some(format!(
            "https://self-service.clientvpn.amazonaws.com/endpoints/{}",
            created.id
        ))
    );
    assert_eq!(observed.tags, request.tags);
    assert_eq!(observed.settings, expected_settings(&spec));
    assert_eq!(
        observed.fixed,
        FixedSettings {
            client_cidr_block: Some("10.100.0.0/22".into()),
            transport_protocol: "tcp".into(),
            authentication: vec![
                AuthenticationFact {
                    type_: "certificate-authentication".into(),
                    reference: Some(ROOT_CERT.into()),
                    self_service_reference: None,
                },
                AuthenticationFact {
                    type_: "federated-authentication".into(),
                    reference: Some(SAML.into()),
                    self_service_reference: Some(SAML_PORTAL.into()),
                },
            ],
            endpoint_ip_address_type: "ipv4".into(),
            traffic_ip_address_type: "ipv4".into(),
        }
    );
    assert!(!observed.is_going_away());
}

#[tokio::test]
async fn a_minimal_endpoint_reports_aws_defaults() {
    let emulator = Emulator::start();
    let api = emulator.adapter("AKIDMINIMAL").await;
    let spec = minimal_spec();
    let created = api
        .create_endpoint(REGION, &create_request(spec.clone(), "uid-min", &[]))
        .await
        .expect("create");
    let observed = describe(&api, &created.id).await;
    assert_eq!(observed.settings, expected_settings(&spec));
    assert_eq!(observed.settings.vpn_port, 443);
    assert_eq!(observed.settings.session_timeout_hours, 24);
    assert!(observed.settings.disconnect_on_session_timeout);
    assert_eq!(observed.settings.description, "");
    assert_eq!(observed.settings.vpc_id, None);
    assert!(observed.settings.dns_servers.is_empty());
    assert_eq!(observed.self_service_portal_url, None);
    assert_eq!(observed.fixed.transport_protocol, "udp");
    assert_eq!(
        observed.fixed.authentication,
        [AuthenticationFact {
            type_: "certificate-authentication".into(),
            reference: Some(ROOT_CERT.into()),
            self_service_reference: None,
        }]
    );
}

#[tokio::test]
async fn listing_reads_every_page_and_finding_by_tag_filters() {
    // 1,003 endpoints: more than one page of 1,000, the adapter's page size.
    const COUNT: usize = 1003;
    let emulator = Emulator::start();
    let api = emulator.adapter("AKIDLIST").await;
    let ids: Vec<String> = futures::stream::iter(0..COUNT)
        .map(|n| {
            let api = &api;
            async move {
                let team = if n % 250 == 7 { "blue" } else { "red" };
                let request =
                    create_request(minimal_spec(), &format!("uid-{n}"), &[("team", team)]);
                api.create_endpoint(REGION, &request)
                    .await
                    .expect("create")
                    .id
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    // Another account's endpoint must not show up.
    let other = emulator.adapter("AKIDOTHER").await;
    other
        .create_endpoint(REGION, &create_request(minimal_spec(), "uid-0", &[]))
        .await
        .expect("create in another account");

    emulator.control("POST", "/_emulator/calls/reset", None);
    let listed = api.list_endpoints(REGION).await.expect("list");
    assert_eq!(
        emulator.calls("DescribeClientVpnEndpoints"),
        2,
        "two pages of at most 1000"
    );
    let mut listed_ids: Vec<String> = listed.iter().map(|e| e.id.clone()).collect();
    listed_ids.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(listed_ids, want, "every endpoint exactly once");
    assert!(listed.iter().all(|e| e.status_code == "pending-associate"));

    let blue = api
        .find_endpoints_by_tag(REGION, "team", "blue")
        .await
        .expect("find");
    assert_eq!(blue.len(), 4, "n = 7, 257, 507, 757");
    assert!(
        blue.iter()
            .all(|e| e.tags.get("team").map(String::as_str) == Some("blue"))
    );
    let one = api
        .find_endpoints_by_tag(REGION, "clientvpn.io/uid", "uid-42")
        .await
        .expect("find by uid");
    assert_eq!(one.len(), 1);
    assert!(
        api.find_endpoints_by_tag(REGION, "clientvpn.io/uid", "nobody")
            .await
            .expect("find nothing")
            .is_empty()
    );
}

#[tokio::test]
async fn modify_changes_each_field_and_nothing_else() {
    let emulator = Emulator::start();
    let api = emulator.adapter("AKIDMODIFY").await;
    let created = api
        .create_endpoint(REGION, &create_request(federated_spec(), "uid-mod", &[]))
        .await
        .expect("create");
    let id = created.id;
    let mut expected = describe(&api, &id).await.settings;
    assert_eq!(expected, expected_settings(&federated_spec()));
    let fixed = describe(&api, &id).await.fixed;

    /// What the change does to the settings AWS reports.
    type Effect = fn(&mut EndpointSettings);
    let steps: Vec<(&str, ModifyEndpoint, Effect)> = vec![
        (
            "server certificate",
            ModifyEndpoint {
                server_certificate_arn: Some(
                    "arn:aws:acm:us-east-1:123456789012:certificate/next".into(),
                ),
                ..Default::default()
            },
            |s| {
                s.server_certificate_arn =
                    "arn:aws:acm:us-east-1:123456789012:certificate/next".into()
            },
        ),
        (
            "connection log on",
            ModifyEndpoint {
                connection_log: Some(ConnectionLog {
                    enabled: true,
                    log_group: Some("vpn".into()),
                    log_stream: Some("conn".into()),
                    include_authorization_policy_context: true,
                }),
                ..Default::default()
            },
            |s| {
                s.connection_log = ConnectionLog {
                    enabled: true,
                    log_group: Some("vpn".into()),
                    log_stream: Some("conn".into()),
                    include_authorization_policy_context: true,
                }
            },
        ),
        (
            "dns servers",
            ModifyEndpoint {
                dns_servers: Some(vec!["10.0.0.3".into(), "10.0.0.2".into()]),
                ..Default::default()
            },
            |s| s.dns_servers = vec!["10.0.0.3".into(), "10.0.0.2".into()],
        ),
        (
            "dns servers emptied",
            ModifyEndpoint {
                dns_servers: Some(vec![]),
                ..Default::default()
            },
            |s| s.dns_servers = vec![],
        ),
        (
            "vpn port",
            ModifyEndpoint {
                vpn_port: Some(1194),
                ..Default::default()
            },
            |s| s.vpn_port = 1194,
        ),
        (
            "description",
            ModifyEndpoint {
                description: Some("changed".into()),
                ..Default::default()
            },
            |s| s.description = "changed".into(),
        ),
        (
            "split tunnel",
            ModifyEndpoint {
                split_tunnel: Some(true),
                ..Default::default()
            },
            |s| s.split_tunnel = true,
        ),
        (
            "vpc and security groups",
            ModifyEndpoint {
                vpc: Some((
                    VPC.into(),
                    vec!["sg-0123456789abcdef2".into(), "sg-0123456789abcdef1".into()],
                )),
                ..Default::default()
            },
            |s| {
                s.vpc_id = Some(VPC.into());
                s.security_group_ids =
                    vec!["sg-0123456789abcdef1".into(), "sg-0123456789abcdef2".into()];
            },
        ),
        (
            "self-service portal on",
            ModifyEndpoint {
                self_service_portal: Some(true),
                ..Default::default()
            },
            |s| s.self_service_portal = Some(true),
        ),
        (
            "client connect on",
            ModifyEndpoint {
                client_connect: Some(ClientConnect {
                    enabled: true,
                    lambda_function_arn: Some(LAMBDA.into()),
                }),
                ..Default::default()
            },
            |s| {
                s.client_connect = ClientConnect {
                    enabled: true,
                    lambda_function_arn: Some(LAMBDA.into()),
                }
            },
        ),
        (
            "session timeout",
            ModifyEndpoint {
                session_timeout_hours: Some(10),
                ..Default::default()
            },
            |s| s.session_timeout_hours = 10,
        ),
        (
            "login banner on",
            ModifyEndpoint {
                login_banner: Some(LoginBanner {
                    enabled: true,
                    text: Some("Hello".into()),
                }),
                ..Default::default()
            },
            |s| {
                s.login_banner = LoginBanner {
                    enabled: true,
                    text: Some("Hello".into()),
                }
            },
        ),
        (
            "disconnect on session timeout",
            ModifyEndpoint {
                disconnect_on_session_timeout: Some(false),
                ..Default::default()
            },
            |s| s.disconnect_on_session_timeout = false,
        ),
        (
            "route enforcement",
            ModifyEndpoint {
                route_enforcement: Some(true),
                ..Default::default()
            },
            |s| s.route_enforcement = true,
        ),
        (
            "everything back off at once",
            ModifyEndpoint {
                connection_log: Some(ConnectionLog::default()),
                description: Some(String::new()),
                split_tunnel: Some(false),
                vpc: Some((VPC.into(), vec!["sg-0123456789abcdef3".into()])),
                self_service_portal: Some(false),
                client_connect: Some(ClientConnect::default()),
                login_banner: Some(LoginBanner::default()),
                disconnect_on_session_timeout: Some(true),
                route_enforcement: Some(false),
                ..Default::default()
            },
            |s| {
                s.connection_log = ConnectionLog::default();
                s.description = String::new();
                s.split_tunnel = false;
                s.security_group_ids = vec!["sg-0123456789abcdef3".into()];
                s.self_service_portal = Some(false);
                s.client_connect = ClientConnect::default();
                s.login_banner = LoginBanner::default();
                s.disconnect_on_session_timeout = true;
                s.route_enforcement = false;
            },
        ),
    ];
    for (name, change, apply) in steps {
        api.modify_endpoint(REGION, &id, &change)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        apply(&mut expected);
        let observed = describe(&api, &id).await;
        assert_eq!(observed.settings, expected, "after {name}");
        assert_eq!(observed.fixed, fixed, "after {name}: fixed settings moved");
    }
    assert_eq!(
        describe(&api, &id).await.self_service_portal_url,
        None,
        "portal off, no URL"
    );

    // An empty change still reaches AWS as a valid request (the controller should not send it).
    api.modify_endpoint(REGION, &id, &ModifyEndpoint::default())
        .await
        .expect("empty modify");

    // AWS refuses, the adapter classifies.
    assert_kind(
        api.modify_endpoint(
            REGION,
            &id,
            &ModifyEndpoint {
                session_timeout_hours: Some(7),
                ..Default::default()
            },
        )
        .await,
        ErrorKind::Terminal,
        "InvalidParameterValue",
    );
}

#[tokio::test]
async fn tags_are_added_and_removed_by_key() {
    let emulator = Emulator::start();
    let api = emulator.adapter("AKIDTAGS").await;
    let request = create_request(minimal_spec(), "uid-tags", &[("a", "1"), ("b", "2")]);
    let id = api
        .create_endpoint(REGION, &request)
        .await
        .expect("create")
        .id;
    let mut expected = request.tags.clone();

    let new_tags = BTreeMap::from([
        ("a".to_string(), "9".to_string()),
        ("c".to_string(), "3".to_string()),
        ("empty".to_string(), String::new()),
    ]);
    api.create_tags(REGION, &id, &new_tags)
        .await
        .expect("create tags");
    expected.extend(new_tags);
    assert_eq!(describe(&api, &id).await.tags, expected);

    api.delete_tags(REGION, &id, &["a".into(), "empty".into(), "absent".into()])
        .await
        .expect("delete tags");
    expected.remove("a");
    expected.remove("empty");
    assert_eq!(
        describe(&api, &id).await.tags,
        expected,
        "deleted whatever the value"
    );

    // Nothing to do must not reach AWS: DeleteTags without tags would remove every tag.
    emulator.control("POST", "/_emulator/calls/reset", None);
    api.delete_tags(REGION, &id, &[]).await.expect("no keys");
    api.create_tags(REGION, &id, &BTreeMap::new())
        .await
        .expect("no tags");
    assert_eq!(emulator.calls("DeleteTags"), 0);
    assert_eq!(emulator.calls("CreateTags"), 0);
    assert_eq!(describe(&api, &id).await.tags, expected);

    let found = api
        .find_endpoints_by_tag(REGION, "c", "3")
        .await
        .expect("find");
    assert_eq!(
        found.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        [id.as_str()]
    );

    assert_kind(
        api.create_tags(
            REGION,
            &id,
            &BTreeMap::from([("aws:reserved".to_string(), "x".to_string())]),
        )
        .await,
        ErrorKind::Terminal,
        "InvalidParameterValue",
    );
}

#[tokio::test]
async fn networks_rules_routes_export_and_delete_through_the_lifecycle() {
    let emulator = Emulator::start();
    let api = emulator.adapter("AKIDLIFECYCLE").await;
    let id = api
        .create_endpoint(REGION, &create_request(minimal_spec(), "uid-life", &[]))
        .await
        .expect("create")
        .id;
    assert!(
        api.describe_target_networks(REGION, &id)
            .await
            .expect("no networks")
            .is_empty()
    );
    assert!(
        api.describe_routes(REGION, &id)
            .await
            .expect("no routes")
            .is_empty()
    );
    // Routes need an associated subnet.
    let default_route = RouteKey {
        destination_cidr_block: "0.0.0.0/0".into(),
        target_subnet_id: SUBNET.into(),
    };
    assert_kind(
        api.create_route(REGION, &id, &default_route, None, "route-early")
            .await,
        ErrorKind::Retryable,
        "InvalidClientVpnActiveAssociationNotFound",
    );

    // Associate (idempotent on the client token) and wait for `associated` + `available`.
    let association = api
        .associate_target_network(REGION, &id, SUBNET, "assoc-1")
        .await
        .expect("associate");
    assert!(association.starts_with("cvpn-assoc-"), "{association}");
    let again = api
        .associate_target_network(REGION, &id, SUBNET, "assoc-1")
        .await
        .expect("associate again");
    assert_eq!(again, association);
    assert_kind(
        api.associate_target_network(REGION, &id, SUBNET, "assoc-2")
            .await,
        ErrorKind::Terminal,
        "InvalidClientVpnDuplicateAssociationException",
    );
    let networks = eventually("the association", || async {
        let networks = api
            .describe_target_networks(REGION, &id)
            .await
            .expect("describe networks");
        networks
            .iter()
            .all(|n| n.state == AssociationState::Associated)
            .then_some(networks)
    })
    .await;
    assert_eq!(networks.len(), 1);
    assert_eq!(networks[0].association_id, association);
    assert_eq!(networks[0].subnet_id, SUBNET);
    assert_eq!(networks[0].vpc_id.as_deref(), Some(VPC));
    assert_eq!(networks[0].security_group_ids, [DEFAULT_SG]);
    eventually("the endpoint to be available", || async {
        (describe(&api, &id).await.status_code == "available").then_some(())
    })
    .await;
    let observed = describe(&api, &id).await;
    assert_eq!(
        observed.settings.vpc_id.as_deref(),
        Some(VPC),
        "first association fixes the VPC"
    );
    assert_eq!(observed.settings.security_group_ids, [DEFAULT_SG]);

    // Delete is refused while a network is associated.
    assert_kind(
        api.delete_endpoint(REGION, &id).await,
        ErrorKind::Retryable,
        "ClientVpnEndpointAssociationExists",
    );

    // Security groups.
    let groups = vec![
        "sg-0123456789abcdef2".to_string(),
        "sg-0123456789abcdef1".to_string(),
    ];
    api.apply_security_groups(REGION, &id, VPC, &groups)
        .await
        .expect("apply security groups");
    let sorted = vec![
        "sg-0123456789abcdef1".to_string(),
        "sg-0123456789abcdef2".to_string(),
    ];
    assert_eq!(
        describe(&api, &id).await.settings.security_group_ids,
        sorted
    );
    let networks = api
        .describe_target_networks(REGION, &id)
        .await
        .expect("describe networks");
    assert_eq!(networks[0].security_group_ids, sorted);
    assert_kind(
        api.apply_security_groups(REGION, &id, "vpc-0aaaaaaaaaaaaaaa0", &groups)
            .await,
        ErrorKind::Terminal,
        "InvalidParameterValue",
    );

    // Authorization rules: one group, and all groups.
    let admins = RuleKey {
        target_network_cidr: VPC_CIDR.into(),
        access_group_id: Some("admins".into()),
    };
    let everyone = RuleKey {
        target_network_cidr: "10.2.0.0/16".into(),
        access_group_id: None,
    };
    api.authorize_ingress(REGION, &id, &admins, Some("admins only"), "rule-1")
        .await
        .expect("authorize group");
    api.authorize_ingress(REGION, &id, &admins, Some("admins only"), "rule-1")
        .await
        .expect("authorize group again, same token");
    api.authorize_ingress(REGION, &id, &everyone, None, "rule-2")
        .await
        .expect("authorize all groups");
    assert_kind(
        api.authorize_ingress(REGION, &id, &everyone, None, "rule-3")
            .await,
        ErrorKind::Terminal,
        "InvalidClientVpnDuplicateAuthorizationRule",
    );
    let rules = eventually("active rules", || async {
        let rules = api
            .describe_authorization_rules(REGION, &id)
            .await
            .expect("describe rules");
        rules
            .iter()
            .all(|r| r.state == RuleState::Active)
            .then_some(rules)
    })
    .await;
    let mut keys: Vec<(RuleKey, Option<String>)> = rules
        .iter()
        .map(|r| (r.key.clone(), r.description.clone()))
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            (admins.clone(), Some("admins only".to_string())),
            (everyone.clone(), None)
        ]
    );

    api.revoke_ingress(REGION, &id, &admins)
        .await
        .expect("revoke group");
    api.revoke_ingress(REGION, &id, &everyone)
        .await
        .expect("revoke all groups");
    eventually("revoked rules to go", || async {
        api.describe_authorization_rules(REGION, &id)
            .await
            .expect("describe rules")
            .is_empty()
            .then_some(())
    })
    .await;
    assert_kind(
        api.revoke_ingress(REGION, &id, &admins).await,
        ErrorKind::NotFound,
        "InvalidClientVpnEndpointAuthorizationRuleNotFound",
    );

    // Routes: the association's own route, plus one added.
    let routes = api.describe_routes(REGION, &id).await.expect("routes");
    assert_eq!(routes.len(), 1, "{routes:?}");
    assert_eq!(
        routes[0].key,
        RouteKey {
            destination_cidr_block: VPC_CIDR.into(),
            target_subnet_id: SUBNET.into(),
        }
    );
    assert_eq!(routes[0].origin, RouteOrigin::Associate);
    api.create_route(REGION, &id, &default_route, Some("internet"), "route-1")
        .await
        .expect("create route");
    api.create_route(REGION, &id, &default_route, Some("internet"), "route-1")
        .await
        .expect("create route again, same token");
    assert_kind(
        api.create_route(REGION, &id, &default_route, Some("internet"), "route-2")
            .await,
        ErrorKind::Terminal,
        "InvalidClientVpnDuplicateRoute",
    );
    let added = eventually("the added route to be active", || async {
        api.describe_routes(REGION, &id)
            .await
            .expect("routes")
            .into_iter()
            .find(|r| r.key == default_route && r.state == RouteState::Active)
    })
    .await;
    assert_eq!(added.origin, RouteOrigin::AddRoute);
    assert_eq!(added.description.as_deref(), Some("internet"));
    api.delete_route(REGION, &id, &default_route)
        .await
        .expect("delete route");
    eventually("the added route to go", || async {
        let routes = api.describe_routes(REGION, &id).await.expect("routes");
        (routes.len() == 1 && routes[0].origin == RouteOrigin::Associate).then_some(())
    })
    .await;
    assert_kind(
        api.delete_route(REGION, &id, &default_route).await,
        ErrorKind::NotFound,
        "InvalidClientVpnRouteNotFound",
    );

    // The client configuration.
    let config = api
        .export_client_configuration(REGION, &id)
        .await
        .expect("export");
    let host = format!("{id}.prod.clientvpn.{REGION}.amazonaws.com");
    assert!(
        config.lines().any(|l| l == format!("remote {host} 443")),
        "{config}"
    );
    assert!(config.lines().any(|l| l == "<ca>"), "{config}");
    assert!(config.lines().any(|l| l == "</ca>"), "{config}");
    assert!(config.lines().any(|l| l == "proto udp"), "{config}");

    // Disassociate: the endpoint goes back to pending-associate.
    api.disassociate_target_network(REGION, &id, &association)
        .await
        .expect("disassociate");
    eventually("the association to go", || async {
        api.describe_target_networks(REGION, &id)
            .await
            .expect("networks")
            .is_empty()
            .then_some(())
    })
    .await;
    assert_eq!(describe(&api, &id).await.status_code, "pending-associate");
    assert!(
        api.describe_routes(REGION, &id)
            .await
            .expect("routes")
            .is_empty()
    );
    assert_kind(
        api.disassociate_target_network(REGION, &id, &association)
            .await,
        ErrorKind::NotFound,
        "InvalidClientVpnAssociationIdNotFound",
    );

    // Delete: deleting → deleted (still visible) → gone. Slower, so each state can be seen.
    emulator.control(
        "POST",
        "/_emulator/timing",
        Some(json!({"delete_delay_ms": 1000, "deleted_visible_ms": 2000})),
    );
    let status = api.delete_endpoint(REGION, &id).await.expect("delete");
    assert_eq!(status.as_deref(), Some("deleting"));
    let deleting = describe(&api, &id).await;
    assert_eq!(deleting.status_code, "deleting");
    assert!(deleting.is_going_away() && !deleting.is_deleted());
    assert_kind(
        api.modify_endpoint(
            REGION,
            &id,
            &ModifyEndpoint {
                description: Some("too late".into()),
                ..Default::default()
            },
        )
        .await,
        ErrorKind::Retryable,
        "IncorrectState",
    );
    eventually("deleted", || async {
        api.describe_endpoint(REGION, &id)
            .await
            .expect("describe")
            .filter(ObservedEndpoint::is_deleted)
    })
    .await;
    assert!(
        api.list_endpoints(REGION)
            .await
            .expect("list")
            .iter()
            .any(|e| e.id == id && e.is_deleted()),
        "a deleted endpoint is still listed for a while"
    );
    eventually("gone", || async {
        api.describe_endpoint(REGION, &id)
            .await
            .expect("describe")
            .is_none()
            .then_some(())
    })
    .await;
    assert!(api.list_endpoints(REGION).await.expect("list").is_empty());
}

#[tokio::test]
async fn unknown_ids_are_none_from_describe_and_not_found_elsewhere() {
    let emulator = Emulator::start();
    let api = emulator.adapter("AKIDNOTFOUND").await;
    let id = UNKNOWN_ENDPOINT;
    assert_eq!(
        api.describe_endpoint(REGION, id).await.expect("describe"),
        None
    );
    let rule = RuleKey {
        target_network_cidr: VPC_CIDR.into(),
        access_group_id: None,
    };
    let route = RouteKey {
        destination_cidr_block: "0.0.0.0/0".into(),
        target_subnet_id: SUBNET.into(),
    };
    let tags = BTreeMap::from([("a".to_string(), "b".to_string())]);
    let code = "InvalidClientVpnEndpointId.NotFound";
    let not_found = ErrorKind::NotFound;
    assert_kind(api.delete_endpoint(REGION, id).await, not_found, code);
    assert_kind(
        api.modify_endpoint(
            REGION,
            id,
            &ModifyEndpoint {
                description: Some("x".into()),
                ..Default::default()
            },
        )
        .await,
        not_found,
        code,
    );
    assert_kind(api.create_tags(REGION, id, &tags).await, not_found, code);
    assert_kind(
        api.delete_tags(REGION, id, &["a".into()]).await,
        not_found,
        code,
    );
    assert_kind(
        api.describe_target_networks(REGION, id).await,
        not_found,
        code,
    );
    assert_kind(
        api.associate_target_network(REGION, id, SUBNET, "t").await,
        not_found,
        code,
    );
    assert_kind(
        api.disassociate_target_network(REGION, id, "cvpn-assoc-0123456789abcdef0")
            .await,
        not_found,
        code,
    );
    assert_kind(
        api.apply_security_groups(REGION, id, VPC, &[DEFAULT_SG.into()])
            .await,
        not_found,
        code,
    );
    assert_kind(
        api.describe_authorization_rules(REGION, id).await,
        not_found,
        code,
    );
    assert_kind(
        api.authorize_ingress(REGION, id, &rule, None, "t").await,
        not_found,
        code,
    );
    assert_kind(api.revoke_ingress(REGION, id, &rule).await, not_found, code);
    assert_kind(api.describe_routes(REGION, id).await, not_found, code);
    assert_kind(
        api.create_route(REGION, id, &route, None, "t").await,
        not_found,
        code,
    );
    assert_kind(api.delete_route(REGION, id, &route).await, not_found, code);
    assert_kind(
        api.export_client_configuration(REGION, id).await,
        not_found,
        code,
    );
    assert!(api.list_endpoints(REGION).await.expect("list").is_empty());
    assert!(
        api.find_endpoints_by_tag(REGION, "a", "b")
            .await
            .expect("find")
            .is_empty()
    );
}

#[tokio::test]
async fn failures_are_classified_with_code_message_and_request_id() {
    let emulator = Emulator::start();
    let api = emulator.adapter("AKIDFAULTS").await;
    let fail_next = |action: &str, code: &str| {
        emulator.control(
            "POST",
            "/_emulator/faults/fail-next",
            Some(json!({"action": action, "code": code, "message": format!("injected {code}")})),
        );
    };

    fail_next("DescribeClientVpnEndpoints", "RequestLimitExceeded");
    let err = api.list_endpoints(REGION).await.expect_err("throttled");
    assert_eq!(err.kind, ErrorKind::Retryable);
    assert_eq!(err.operation, "DescribeClientVpnEndpoints");
    assert_eq!(err.code, "RequestLimitExceeded");
    assert_eq!(err.message, "injected RequestLimitExceeded");
    assert!(err.request_id.is_some());

    fail_next("DescribeClientVpnEndpoints", "InternalError");
    assert_kind(
        api.describe_endpoint(REGION, UNKNOWN_ENDPOINT).await,
        ErrorKind::Retryable,
        "InternalError",
    );
    fail_next("CreateClientVpnEndpoint", "UnauthorizedOperation");
    assert_kind(
        api.create_endpoint(REGION, &create_request(minimal_spec(), "uid-f", &[]))
            .await,
        ErrorKind::Terminal,
        "UnauthorizedOperation",
    );
    fail_next("ExportClientVpnClientConfiguration", "ServiceUnavailable");
    assert_kind(
        api.export_client_configuration(REGION, UNKNOWN_ENDPOINT)
            .await,
        ErrorKind::Retryable,
        "ServiceUnavailable",
    );

    // AWS's own validation: a bad spec is terminal.
    let mut bad = minimal_spec();
    bad.vpn_port = Some(8443);
    assert_kind(
        api.create_endpoint(REGION, &create_request(bad, "uid-bad", &[]))
            .await,
        ErrorKind::Terminal,
        "InvalidParameterValue",
    );

    // Nobody listening: retryable, without a request id.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let offline = Ec2ClientVpn::new(sdk_config(&format!("http://{closed}"), "AKIDOFF").await);
    let err = offline
        .list_endpoints(REGION)
        .await
        .expect_err("connection refused");
    assert_eq!(err.kind, ErrorKind::Retryable, "{err:?}");
    assert_eq!(err.code, "DispatchFailure");
    assert_eq!(err.request_id, None);
}
