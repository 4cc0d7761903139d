//! Users deleted while their certificate is being issued, before the operator's caches may show
//! its own writes: every certificate that was ever written to a Secret still ends up on the
//! endpoint's revocation list.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, ListParams};
use kube::runtime::watcher::{self, Event};
use serde_json::json;

use crate::applied;
use crate::harness::Env;
use crate::users::{
    available_endpoint, crl_serials, endpoint_id, user_manifest, users, wait_user_gone,
};

/// The label on every user's Secret.
const USER_LABEL: &str = "clientvpn.io/user";

#[tokio::test]
async fn users_deleted_while_issued_leave_every_written_serial_revoked() {
    let env = Env::start("user-churn").await;
    let id = endpoint_id(&available_endpoint(&env).await);
    let written = Arc::new(Mutex::new(BTreeSet::new()));
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), &env.namespace);
    let (ready, watching) = tokio::sync::oneshot::channel();
    let recorder = tokio::spawn(record_serials(secrets.clone(), written.clone(), ready));
    watching.await.expect("the Secret watch started");
    // Deleted 0 ms to 1.6 s after the apply: before, during and just after the issuance.
    let names = ["eve", "fay", "gus", "hal", "ivy", "jon"];
    for (n, name) in names.iter().enumerate() {
        applied(&env, &user_manifest(name, json!({})));
        let delay = if n == 0 { 0 } else { 50 << n };
        tokio::time::sleep(Duration::from_millis(delay)).await;
        users(&env)
            .delete(name, &DeleteParams::default())
            .await
            .expect("delete");
    }
    for name in names {
        wait_user_gone(&env, name).await;
    }
    recorder.abort();
    // Secrets outlive their users until the garbage collector comes: a consistent list of them
    // covers what the watch may not have delivered yet.
    let left = secrets
        .list(&ListParams::default().labels(USER_LABEL))
        .await
        .expect("list Secrets");
    for secret in left.items {
        record(secret, &written);
    }
    let written = written.lock().expect("lock").clone();
    assert!(
        !written.is_empty(),
        "at least the later users got a certificate before their deletion"
    );
    let listed = crl_serials(&env, &id).await;
    let missing: Vec<&String> = written.iter().filter(|s| !listed.contains(s)).collect();
    assert!(
        missing.is_empty(),
        "written to a Secret but not revoked: {missing:?} (the list holds {listed:?})"
    );
}

/// Every serial any user Secret in `secrets` has held, colon hex, as the watch sees them;
/// `ready` fires once the watch has listed what exists.
async fn record_serials(
    secrets: Api<Secret>,
    into: Arc<Mutex<BTreeSet<String>>>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let config = watcher::Config::default().labels(USER_LABEL);
    let mut events = watcher::watcher(secrets, config).boxed();
    let mut ready = Some(ready);
    while let Some(event) = events.next().await {
        let secret = match event {
            Ok(Event::Apply(secret) | Event::InitApply(secret)) => secret,
            Ok(Event::InitDone) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(());
                }
                continue;
            }
            _ => continue,
        };
        record(secret, &into);
    }
}

/// Add the serial of the certificate in `secret`, if it holds one.
fn record(secret: Secret, into: &Mutex<BTreeSet<String>>) {
    if let Some(crt) = secret.data.and_then(|d| d.get("tls.crt").cloned()) {
        into.lock().expect("lock").insert(serial_of(&crt.0));
    }
}

/// The serial of a PEM certificate, colon hex (as the CRL listing shows serials).
fn serial_of(pem: &[u8]) -> String {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem).expect("a PEM certificate");
    let cert = block.parse_x509().expect("a certificate");
    x509_parser::utils::format_serial(cert.raw_serial())
}
