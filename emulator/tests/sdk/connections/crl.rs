//! Client certificate revocation lists: Import/Export, their `pending` → `active` lifecycle, and
//! what an active list does to connecting clients.

use super::*;

#[tokio::test]
async fn crl_round_trip_goes_pending_then_active() {
    let vpn = Vpn::start().await;
    assert_eq!(
        vpn.export_crl().await,
        (None, None),
        "nothing before an import"
    );

    vpn.emu.set_timing(json!({"crl_delay_ms": 1_000})).await;
    let crl = vpn.ca.crl([7, 8], 2099);
    vpn.import_crl(&crl).await;
    let (pem, status) = vpn.export_crl().await;
    assert_eq!(pem.as_deref(), Some(crl.as_str()));
    assert!(pem.unwrap().starts_with("-----BEGIN X509 CRL-----\n"));
    assert_eq!(status.as_deref(), Some("pending"));
    vpn.wait_crl_active().await;

    // A new import replaces the list and is pending again.
    let replacement = vpn.ca.crl([9], 2099);
    vpn.import_crl(&replacement).await;
    assert_eq!(
        vpn.export_crl().await,
        (Some(replacement), Some("pending".to_owned()))
    );
    let ep = vpn.dumped().await;
    assert_eq!(ep["crl"]["status"], "pending");
    assert_eq!(ep["crl"]["revocationList"]["entries"], 1);

    // DryRun and unknown endpoints.
    assert_dry_run(
        vpn.import_crl_request()
            .certificate_revocation_list(&crl)
            .dry_run(true)
            .send()
            .await,
    );
    assert_eq!(vpn.export_crl().await.1.as_deref(), Some("pending"));
    assert_dry_run(vpn.export_crl_request().dry_run(true).send().await);
    assert_each_rejected!(
        "InvalidClientVpnEndpointId.NotFound",
        [
            vpn.ec2
                .import_client_vpn_client_certificate_revocation_list()
                .client_vpn_endpoint_id(UNKNOWN_ENDPOINT)
                .certificate_revocation_list(&crl),
            vpn.ec2
                .export_client_vpn_client_certificate_revocation_list()
                .client_vpn_endpoint_id(UNKNOWN_ENDPOINT),
        ]
    );
    assert_rejected(vpn.import_crl_request().send().await, "MissingParameter");
}

#[tokio::test]
async fn malformed_foreign_and_oversized_crls_are_refused() {
    let vpn = Vpn::start().await;
    let import = |pem: String| vpn.import_crl_request().certificate_revocation_list(pem);
    let other_ca = Ca::new("Someone else");
    assert_each_rejected!(
        "InvalidParameterValue",
        [
            import("not a CRL".to_owned()),
            import("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n".to_owned()),
            import(vpn.ca.pem()),
            import(format!("{0}{0}", vpn.ca.crl([1], 2099))),
            // Not signed by the CA of the client root chain.
            import(other_ca.crl([1], 2099)),
        ]
    );
    let message = assert_rejected(
        import(vpn.ca.crl(1..=20_001, 2099)).send().await,
        "ClientVpnCertificateRevocationListLimitExceeded",
    );
    assert!(message.contains("20001"), "{message}");
    assert_eq!(vpn.export_crl().await, (None, None), "nothing was imported");
    // Exactly the quota is fine.
    vpn.import_crl(&vpn.ca.crl(1..=20_000, 2099)).await;
    vpn.wait_crl_active().await;
    assert_eq!(
        vpn.refused(&vpn.ca.client("c", 20_000)).await,
        "certificate-revoked"
    );
    vpn.connected(&vpn.ca.client("c", 20_001)).await;

    // An endpoint without certificate authentication has no CRL to import.
    let directory = vpn.create(vec![directory_auth()]).await;
    assert_rejected(
        vpn.ec2
            .import_client_vpn_client_certificate_revocation_list()
            .client_vpn_endpoint_id(&directory)
            .certificate_revocation_list(vpn.ca.crl([1], 2099))
            .send()
            .await,
        "InvalidParameterValue",
    );
}

#[tokio::test]
async fn crl_import_resets_sessions_and_applies_once_active() {
    let vpn = Vpn::start().await;
    let alice = vpn.ca.client("alice", 1);
    let bob = vpn.ca.client("bob", 2);
    vpn.connected(&alice).await;
    vpn.connected(&bob).await;

    vpn.emu.set_timing(json!({"crl_delay_ms": 1_500})).await;
    vpn.import_crl(&vpn.ca.crl([2], 2099)).await;
    let listed = vpn.connections().await;
    assert_eq!(listed.len(), 2, "ended sessions stay listed");
    for c in &listed {
        assert_eq!(status_of(c), "terminated");
        assert!(is_connection_time(c.connection_end_time().unwrap()));
    }
    // Until the list is active, the previous (here: no) list applies.
    vpn.connected(&bob).await;
    vpn.wait_crl_active().await;
    assert_eq!(vpn.refused(&bob).await, "certificate-revoked");
    vpn.connected(&alice).await;
    let active: Vec<_> = vpn
        .connections()
        .await
        .into_iter()
        .filter(|c| status_of(c) == "active")
        .map(|c| c.common_name().unwrap().to_owned())
        .collect();
    assert_eq!(
        active,
        ["bob", "alice"],
        "bob's session from the pending window stays"
    );
}

#[tokio::test]
async fn an_expired_crl_refuses_everyone() {
    let vpn = Vpn::start().await;
    let alice = vpn.ca.client("alice", 1);
    vpn.import_crl(&vpn.ca.crl([], 2021)).await;
    vpn.wait_crl_active().await;
    assert_eq!(vpn.refused(&alice).await, "crl-expired");
    vpn.import_crl(&vpn.ca.crl([], 2099)).await;
    vpn.wait_crl_active().await;
    vpn.connected(&alice).await;
}
