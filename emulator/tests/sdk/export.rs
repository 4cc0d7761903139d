use aws_sdk_ec2::types::TransportProtocol;

use crate::common::*;

/// What comes before `<ca>` in the default endpoint's configuration (`{id}`: the endpoint id);
/// the Python suite checks the same file.
const CONFIG_HEAD: &str = include_str!("../exported-config-head.txt");

async fn export(emu: &Emulator, id: &str) -> String {
    let ec2 = emu.client().await;
    ec2.export_client_vpn_client_configuration()
        .client_vpn_endpoint_id(id)
        .send()
        .await
        .unwrap()
        .client_configuration()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn exported_configuration_line_by_line() {
    let (emu, _, id) = start_with_endpoint().await;
    let config = export(&emu, &id).await;
    let lines: Vec<&str> = config.lines().collect();
    let ca_start = lines.iter().position(|l| *l == "<ca>").unwrap();
    let ca_end = lines.iter().position(|l| *l == "</ca>").unwrap();

    let head = CONFIG_HEAD.replace("{id}", &id);
    assert_eq!(lines[..ca_start], head.lines().collect::<Vec<_>>());
    let pem = &lines[ca_start + 1..ca_end];
    assert_eq!(pem.first(), Some(&"-----BEGIN CERTIFICATE-----"));
    assert_eq!(pem.last(), Some(&"-----END CERTIFICATE-----"));
    assert!(pem[1..pem.len() - 1].iter().all(|l| {
        l.len() <= 64
            && l.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
    }));
    assert_eq!(
        lines[ca_end + 1..],
        ["reneg-sec 0", "verify-x509-name server-cert-1 name"]
    );
    assert!(config.ends_with('\n'));
    assert!(!config.contains("*."), "the remote host has no wildcard");

    // The same endpoint exports the same file.
    assert_eq!(export(&emu, &id).await, config);
}

#[tokio::test]
async fn exported_configuration_follows_protocol_port_and_authentication() {
    let (emu, ec2) = start_with_client().await;
    let directory = create_endpoint_authenticated_by(&ec2, vec![mutual_auth(), directory_auth()]);
    let id = created(
        directory
            .transport_protocol(TransportProtocol::Tcp)
            .vpn_port(1194),
    )
    .await;
    let config = export(&emu, &id).await;
    let lines: Vec<&str> = config.lines().collect();
    assert_eq!(lines[2], "proto tcp");
    assert_eq!(
        lines[3],
        format!("remote {id}.prod.clientvpn.us-east-1.amazonaws.com 1194")
    );
    assert_eq!(lines.last(), Some(&"auth-user-pass"));
}

#[tokio::test]
async fn exported_configuration_is_xml_escaped_on_the_wire() {
    let (emu, _, id) = start_with_endpoint().await;
    let raw = emu
        .query(&format!(
            "Action=ExportClientVpnClientConfiguration&Version=2016-11-15&ClientVpnEndpointId={id}"
        ))
        .await;
    assert_eq!(raw.status, 200);
    assert!(
        raw.body.contains("&lt;ca&gt;\n-----BEGIN CERTIFICATE-----"),
        "{}",
        raw.body
    );
    assert!(raw.body.contains("&lt;/ca&gt;"));
    assert!(!raw.body.contains("<ca>"));
}
