use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::Tag;

use crate::common::*;

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

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
    let emu = Emulator::start().await;
    let ec2 = emu.client().await;
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
    ec2.create_tags()
        .resources(&a)
        .tags(tag("env", "dev"))
        .send()
        .await
        .unwrap();
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
    let emu = Emulator::start().await;
    let ec2 = emu.client().await;
    let id = new_endpoint(&ec2).await;
    assert_error(
        ec2.create_tags()
            .resources(&id)
            .tags(tag("aws:owner", "x"))
            .send()
            .await,
        "InvalidParameterValue",
        400,
    );
    assert_error(
        ec2.create_tags()
            .resources(&id)
            .tags(tag(&"k".repeat(128), "x"))
            .send()
            .await,
        "InvalidParameterValue",
        400,
    );
    assert_error(
        ec2.create_tags()
            .resources(&id)
            .tags(tag("k", &"v".repeat(257)))
            .send()
            .await,
        "InvalidParameterValue",
        400,
    );
    assert_error(
        ec2.create_tags().resources(&id).send().await,
        "MissingParameter",
        400,
    );
    assert_error(
        ec2.create_tags().tags(tag("k", "v")).send().await,
        "MissingParameter",
        400,
    );
    assert_error(
        ec2.create_tags()
            .resources("vpc-12345678")
            .tags(tag("k", "v"))
            .send()
            .await,
        "InvalidID",
        400,
    );
    assert_error(
        ec2.create_tags()
            .resources("cvpn-endpoint-00000000000000000")
            .tags(tag("k", "v"))
            .send()
            .await,
        "InvalidClientVpnEndpointId.NotFound",
        400,
    );
    let fifty = (0..50).fold(ec2.create_tags().resources(&id), |req, i| {
        req.tags(tag(&format!("k{i}"), "v"))
    });
    fifty.send().await.unwrap();
    assert_error(
        ec2.create_tags()
            .resources(&id)
            .tags(tag("one-too-many", "v"))
            .send()
            .await,
        "TagLimitExceeded",
        400,
    );
    // Overwriting an existing key stays within the limit.
    ec2.create_tags()
        .resources(&id)
        .tags(tag("k0", "w"))
        .send()
        .await
        .unwrap();
}
