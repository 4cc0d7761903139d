//! DescribeClientVpnEndpoints: filters, unknown ids and pagination.

use aws_sdk_ec2::types::{Filter, TransportProtocol};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn describe_filters_by_id_and_transport_protocol() {
    let (_, ec2) = start_with_client().await;
    let udp = new_endpoint(&ec2).await;
    let tcp = created(create_endpoint(&ec2).transport_protocol(TransportProtocol::Tcp)).await;
    let ids = |filters: Vec<Filter>| {
        let ec2 = ec2.clone();
        async move {
            let out = ec2
                .describe_client_vpn_endpoints()
                .set_filters(Some(filters))
                .send()
                .await
                .unwrap();
            let mut ids: Vec<String> = out
                .client_vpn_endpoints()
                .iter()
                .map(|e| e.client_vpn_endpoint_id().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    let filter = |name: &str, values: &[&str]| {
        Filter::builder()
            .name(name)
            .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
            .build()
    };
    assert_eq!(
        ids(vec![filter("transport-protocol", &["tcp"])]).await,
        [tcp.as_str()]
    );
    assert_eq!(
        ids(vec![filter("endpoint-id", &[&udp])]).await,
        [udp.as_str()]
    );
    let mut both = vec![udp.clone(), tcp.clone()];
    both.sort();
    assert_eq!(ids(vec![filter("endpoint-id", &[&udp, &tcp])]).await, both);
    assert_eq!(
        ids(vec![filter("endpoint-id", &["cvpn-endpoint-*"])]).await,
        both
    );
    assert!(
        ids(vec![
            filter("endpoint-id", &[&udp]),
            filter("transport-protocol", &["tcp"])
        ])
        .await
        .is_empty()
    );
    let msg = assert_rejected(
        ec2.describe_client_vpn_endpoints()
            .filters(filter("tag:Name", &["x"]))
            .send()
            .await,
        "InvalidParameterValue",
    );
    assert!(msg.contains("tag:Name"), "{msg}");
}

#[tokio::test]
async fn describe_unknown_id_is_not_found() {
    let (_, ec2) = start_with_client().await;
    let msg = assert_rejected(
        ec2.describe_client_vpn_endpoints()
            .client_vpn_endpoint_ids("cvpn-endpoint-0123456789abcdef0")
            .send()
            .await,
        "InvalidClientVpnEndpointId.NotFound",
    );
    assert!(msg.contains("cvpn-endpoint-0123456789abcdef0"));
}

#[tokio::test]
async fn paginator_walks_every_endpoint_once() {
    let (emu, ec2) = start_with_client().await;
    // More than AWS's default quota of 5.
    emu.set_limits(json!({"endpoints_per_region": 12})).await;
    let mut created = Vec::new();
    for _ in 0..12 {
        created.push(new_endpoint(&ec2).await);
    }
    created.sort();

    let paginator = || {
        ec2.describe_client_vpn_endpoints()
            .into_paginator()
            .page_size(5)
    };
    let pages = collect_pages!(paginator());
    assert_eq!(pages.len(), 3);
    assert_eq!(
        pages
            .iter()
            .map(|p| p.client_vpn_endpoints().len())
            .collect::<Vec<_>>(),
        [5, 5, 2]
    );
    assert!(pages[0].next_token().is_some());
    assert!(pages[2].next_token().is_none());

    let mut listed: Vec<String> = collect_pages!(paginator().items())
        .into_iter()
        .map(|e| e.client_vpn_endpoint_id().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, created);

    // Without MaxResults everything comes in one page.
    let all = ec2.describe_client_vpn_endpoints().send().await.unwrap();
    assert_eq!(all.client_vpn_endpoints().len(), 12);
    assert!(all.next_token().is_none());
}

#[tokio::test]
async fn pagination_parameters_are_validated() {
    let (_, ec2) = start_with_client().await;
    let describe = || ec2.describe_client_vpn_endpoints();
    for bad in [0, 4, 1001] {
        let page = describe().max_results(bad);
        assert_rejected(page.send().await, "InvalidParameterValue");
    }
    for ok in [5, 1000] {
        describe().max_results(ok).send().await.unwrap();
    }
    assert_rejected(
        describe().next_token("not-a-token").send().await,
        "InvalidPaginationToken",
    );
}
