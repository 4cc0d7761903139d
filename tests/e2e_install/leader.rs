//! Two replicas with leader election: only the leader calls AWS; a standby takes over after a
//! kill and after a graceful stop; a leader whose Lease is taken exits.

use std::time::{Duration, Instant};

use crate::harness::{Env, cluster, wait_until};
use crate::operator::{Operator, Proxy};
use crate::release::Release;
use crate::{LEASE_SECONDS, admin, applied, small_manifest, wait_for_endpoint_id};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_calls_aws_and_a_standby_takes_over() {
    let env = Env::start_without_operator("leader").await;
    let c = cluster();
    let lease_duration = format!("{LEASE_SECONDS}s");
    let (release, _) = Release::install(
        c,
        "ha",
        &format!("{}-system", env.namespace),
        &[
            "--set",
            "replicaCount=2",
            "--set",
            "podDisruptionBudget.enabled=true",
            "--set",
            &format!("leaderElection.leaseDuration={lease_duration}"),
            "--set",
            "reconcile.pollInterval=500ms",
            "--set",
            "reconcile.retryBase=500ms",
            "--set",
            "logFormat=text",
            "--set",
            "extraEnv[0].name=AWS_ENDPOINT_URL_EC2",
            "--set",
            &format!("extraEnv[0].value={}", c.emulator.url()),
        ],
    );
    assert_eq!(
        release.pod_env("x")["AWS_ENDPOINT_URL_EC2"],
        c.emulator.url(),
        "extraEnv reaches the container"
    );
    let sa = release.service_account_kubeconfig(c);
    let proxy_a = Proxy::start(c.emulator.addr()).await;
    let proxy_b = Proxy::start(c.emulator.addr()).await;

    let mut a = Operator::start(c, &release, "ha-a", &sa, proxy_a.addr);
    a.ready().await;
    wait_until("replica a holds the Lease", || {
        release.lease_holder(c).as_deref() == Some("ha-a")
    })
    .await;
    let mut b = Operator::start(c, &release, "ha-b", &sa, proxy_b.addr);
    b.ready().await;
    assert_eq!(b.metric("clientvpn_operator_leader"), 0.0, "b is a standby");
    assert_eq!(a.metric("clientvpn_operator_leader"), 1.0);

    applied(&env, &small_manifest("first"));
    wait_for_endpoint_id(&env, "first").await;
    // Let a resync or two pass: the standby still must not call AWS.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(proxy_a.connections() > 0, "the leader called AWS");
    assert_eq!(proxy_b.connections(), 0, "the standby called AWS");
    assert_eq!(
        b.metric_sum("clientvpn_operator_aws_api_requests_total", &[]),
        0.0
    );
    assert_eq!(
        b.metric_sum("controller_runtime_reconcile_total", &[]),
        0.0,
        "the standby does not reconcile"
    );
    assert!(
        a.metric_sum(
            "clientvpn_operator_aws_api_requests_total",
            &[
                "operation=\"CreateClientVpnEndpoint\"",
                "outcome=\"success\""
            ]
        ) >= 1.0
    );

    // The leader dies without releasing the Lease: the standby takes over within the lease
    // duration of the last renewal (plus at most a second of jitter).
    a.kill();
    let killed = Instant::now();
    wait_until("replica b takes the Lease", || {
        release.lease_holder(c).as_deref() == Some("ha-b")
    })
    .await;
    let takeover = killed.elapsed();
    assert!(
        takeover <= Duration::from_secs(LEASE_SECONDS + 3),
        "takeover took {takeover:?} with a {LEASE_SECONDS}s lease"
    );
    applied(&env, &small_manifest("second"));
    wait_for_endpoint_id(&env, "second").await;
    assert!(proxy_b.connections() > 0, "the new leader calls AWS");
    assert_eq!(b.metric("clientvpn_operator_leader"), 1.0);
    assert_eq!(b.metric("clientvpn_operator_leader_transitions_total"), 1.0);
    assert!(
        b.metric_sum(
            "clientvpn_operator_aws_api_requests_total",
            &[
                "operation=\"CreateClientVpnEndpoint\"",
                "outcome=\"success\""
            ]
        ) >= 1.0,
        "the new leader's AWS calls are counted"
    );
    assert!(
        b.metric_sum(
            "controller_runtime_reconcile_total",
            &["result=\"success\""]
        ) >= 1.0
    );

    // A graceful stop hands over too: SIGTERM, exit 0, the standby takes the released Lease.
    let proxy_c = Proxy::start(c.emulator.addr()).await;
    let mut c_op = Operator::start(c, &release, "ha-c", &sa, proxy_c.addr);
    c_op.ready().await;
    b.signal("-TERM");
    let status = b.exited(Duration::from_secs(20)).await;
    assert!(status.success(), "b after SIGTERM: {status}\n{}", b.log());
    let stopped = Instant::now();
    wait_until("replica c takes the Lease", || {
        release.lease_holder(c).as_deref() == Some("ha-c")
    })
    .await;
    assert!(stopped.elapsed() <= Duration::from_secs(LEASE_SECONDS + 3));
    applied(&env, &small_manifest("third"));
    wait_for_endpoint_id(&env, "third").await;
    assert!(proxy_c.connections() > 0);
    env.kubectl(&["delete", "clientvpnendpoint", "--all", "--wait=false"]);
    for name in ["first", "second", "third"] {
        env.wait_gone(name).await;
    }

    // A leader that sees another holder on its Lease stops at once, with an error.
    admin(
        c,
        &[
            "patch",
            "lease",
            &release.lease_name(),
            "-n",
            &release.namespace,
            "--type=merge",
            "-p",
            r#"{"spec":{"holderIdentity":"intruder"}}"#,
        ],
    );
    let status = c_op.exited(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(1), "{}", c_op.log());
    assert!(c_op.log().contains("leadership lost"), "{}", c_op.log());

    release.uninstall(c);
}
