use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::Tag;

use crate::common::*;

async fn tags(ec2: &Client, id: &str) -> Vec<(String, String)> {
    describe_endpoint(ec2, id)
        .await
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn create_and_delete_tags() {
    let (_, ec2) = start_with_client().await;
    let a = new_endpoint(&ec2).await;
    let b = new_endpoint(&ec2).await;
    ec2.create_tags()
        .resources(&a)
        .resources(&b)
        .tags(tag("env", "prod"))
        .tags(tag("team", "net"))
        .tags(tag("empty", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags(&ec2, &a).await,
        pairs(&[("empty", ""), ("env", "prod"), ("team", "net")])
    );
    assert_eq!(tags(&ec2, &b).await, tags(&ec2, &a).await);

    // Overwrite a value.
    tag_resource(&ec2, &a, "env", "dev").await;
    assert_eq!(
        tags(&ec2, &a).await,
        pairs(&[("empty", ""), ("env", "dev"), ("team", "net")])
    );

    // A value that does not match leaves the tag; a key alone deletes whatever the value.
    ec2.delete_tags()
        .resources(&a)
        .tags(tag("env", "prod"))
        .send()
        .await
        .unwrap();
    assert_eq!(tags(&ec2, &a).await.len(), 3);
    ec2.delete_tags()
        .resources(&a)
        .tags(Tag::builder().key("env").build())
        .tags(tag("empty", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(tags(&ec2, &a).await, pairs(&[("team", "net")]));

    // No Tag at all deletes every tag.
    ec2.delete_tags().resources(&b).send().await.unwrap();
    assert!(tags(&ec2, &b).await.is_empty());
}

#[tokio::test]
async fn tag_errors() {
    let (_, ec2, id) = start_with_endpoint().await;
    let on_endpoint = || ec2.create_tags().resources(&id);
    let one_tag = |resource: &str| ec2.create_tags().resources(resource).tags(tag("k", "v"));
    let cases = [
        (
            "reserved aws: prefix",
            on_endpoint().tags(tag("aws:owner", "x")),
            "InvalidParameterValue",
        ),
        (
            "key of 128 characters",
            on_endpoint().tags(tag(&"k".repeat(128), "x")),
            "InvalidParameterValue",
        ),
        (
            "value of 257 characters",
            on_endpoint().tags(tag("k", &"v".repeat(257))),
            "InvalidParameterValue",
        ),
        ("no tags", on_endpoint(), "MissingParameter"),
        (
            "no resources",
            ec2.create_tags().tags(tag("k", "v")),
            "MissingParameter",
        ),
        (
            "not a Client VPN resource",
            one_tag("vpc-12345678"),
            "InvalidID",
        ),
        (
            "unknown endpoint",
            one_tag(UNKNOWN_ENDPOINT),
            "InvalidClientVpnEndpointId.NotFound",
        ),
    ];
    for (what, request, expected) in cases {
        assert_case_rejected(what, request.send().await, expected);
    }
    let fifty = (0..50).fold(ec2.create_tags().resources(&id), |req, i| {
        req.tags(tag(&format!("k{i}"), "v"))
    });
    fifty.send().await.unwrap();
    assert_rejected(
        on_endpoint().tags(tag("one-too-many", "v")).send().await,
        "TagLimitExceeded",
    );
    // Overwriting an existing key stays within the limit.
    tag_resource(&ec2, &id, "k0", "w").await;
}
