//! Endpoints: create, describe, list and find, tags.

use std::collections::BTreeMap;

use clientvpn_operator::cloud::{ClientVpnApi, ErrorKind};
use futures::StreamExt;

use crate::emulator::Emulator;
use crate::support::*;

#[tokio::test]
async fn create_is_idempotent_and_describe_reports_every_setting() {
    let emulator = Emulator::start();
    let api = adapter(&emulator, "AKIDCREATE").await;
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
    assert_eq!(observed.fixed, expected_fixed(&spec));
    assert_eq!(observed.fixed.transport_protocol, "tcp");
    assert_eq!(
        observed.fixed.authentication[1],
        fact("federated-authentication", SAML, Some(SAML_PORTAL))
    );
    assert!(!observed.is_going_away());
}

#[tokio::test]
async fn a_minimal_endpoint_reports_aws_defaults() {
    let emulator = Emulator::start();
    let api = adapter(&emulator, "AKIDMINIMAL").await;
    let spec = minimal_spec();
    let id = created(&api, spec.clone(), "uid-min").await;
    let observed = describe(&api, &id).await;
    assert_eq!(observed.settings, expected_settings(&spec));
    assert_eq!(observed.fixed, expected_fixed(&spec));
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
        [fact("certificate-authentication", ROOT_CERT, None)]
    );
}

#[tokio::test]
async fn listing_reads_every_page_counts_each_and_finding_by_tag_filters() {
    // 1,003 endpoints: more than one page of 1,000, the adapter's page size.
    const COUNT: usize = 1003;
    let emulator = Emulator::start_unthrottled();
    let under_test = instrumented(&emulator, "AKIDLIST").await;
    let api = &under_test.api;
    let ids: Vec<String> = futures::stream::iter(0..COUNT)
        .map(|n| async move {
            let team = if n % 250 == 7 { "blue" } else { "red" };
            let request = create_request(minimal_spec(), &format!("uid-{n}"), &[("team", team)]);
            api.create_endpoint(REGION, &request)
                .await
                .expect("create")
                .id
        })
        .buffer_unordered(16)
        .collect()
        .await;
    // Another account's endpoint must not show up.
    let other = adapter(&emulator, "AKIDOTHER").await;
    other
        .create_endpoint(REGION, &create_request(minimal_spec(), "uid-0", &[]))
        .await
        .expect("create in another account");

    emulator.reset_calls();
    let listed = api.list_endpoints(REGION).await.expect("list");
    assert_eq!(
        emulator.calls("DescribeClientVpnEndpoints"),
        2,
        "two pages of at most 1000"
    );
    assert_eq!(
        under_test.attempts("DescribeClientVpnEndpoints", "success"),
        2,
        "one attempt counted per page"
    );
    assert_eq!(
        under_test.attempts("CreateClientVpnEndpoint", "success"),
        COUNT as u64
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
async fn tags_are_added_and_removed_by_key() {
    let emulator = Emulator::start();
    let api = adapter(&emulator, "AKIDTAGS").await;
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
    emulator.reset_calls();
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
