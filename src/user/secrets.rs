//! The Secrets a user reconcile reads and writes: the endpoint's client CA (certificate, and key
//! when the operator holds it), the brought certificate, and the user's own Secret
//! (`client.ovpn`, `tls.crt`, `tls.key`, `ca.crt`), whose annotations say what it holds.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::core::PartialObjectMeta;
use serde_json::json;

use super::plan::Held;
use super::view::{CaLocation, EndpointView};
use super::{Context, Error};
use crate::api::{FIELD_MANAGER, USER_SECRET_LABEL};
use crate::certificates::{CA_CRT, CertificateMaterial, Signer, TLS_CRT, TLS_KEY};
use crate::runtime::{ObjectHandle, SecretData};

/// Key of the complete OpenVPN profile in the user's Secret.
pub const OVPN_KEY: &str = "client.ovpn";

/// Annotations of the user's Secret: what it holds, so that nothing secret is read to decide.
pub mod annotation {
    pub const SERIAL: &str = "clientvpn.io/serial";
    pub const NOT_AFTER: &str = "clientvpn.io/not-after";
    pub const IDENTITY: &str = "clientvpn.io/identity";
    pub const CONFIGURATION: &str = "clientvpn.io/configuration";
}

/// The endpoint's client CA as far as the operator can read it.
#[derive(Debug, Default)]
pub struct ClientCa {
    /// CA certificate(s), PEM; none when only an ARN is known.
    pub certificates_pem: Option<String>,
    /// The CA certificate with its key: the operator can issue and revoke.
    pub signer: Option<CertificateMaterial>,
    /// The same, parsed for issuing.
    pub issuer: Option<Arc<Signer>>,
}

/// The endpoint's client CA, read once per version of its Secret (issuing a thousand
/// certificates reads and parses the CA once, not a thousand times).
pub async fn client_ca(
    ctx: &Context,
    namespace: &str,
    view: &EndpointView,
) -> Result<Arc<ClientCa>, Error> {
    let name = match &view.ca {
        CaLocation::Unknown => return Ok(Arc::default()),
        CaLocation::Secret(name) | CaLocation::ServerChain(name) => name,
    };
    let key = format!("{namespace}/{name}");
    let version = ctx
        .secret_meta(namespace, name)
        .and_then(|m| m.resource_version());
    if let Some(ca) = version.as_deref().and_then(|v| ctx.cas.get(&key, v)) {
        return Ok(ca);
    }
    let data = ctx
        .runtime
        .cluster
        .secret(namespace, name)
        .await
        .map_err(|e| Error::Kube("reading the client CA Secret", e))?;
    let ca = Arc::new(
        data.map(|d| read_client_ca(&view.ca, &d))
            .unwrap_or_default(),
    );
    // Kept under the version the watch reported before the read: a newer Secret is read again
    // when the watch reports it.
    if let Some(version) = version {
        ctx.cas.put(key, version, ca.clone());
    }
    Ok(ca)
}

/// The client CA in a Secret's data, as the location says to read it.
fn read_client_ca(location: &CaLocation, data: &SecretData) -> ClientCa {
    let crt = data.get(TLS_CRT).unwrap_or_default();
    match location {
        CaLocation::Secret(_) => {
            let signer = data
                .get(TLS_KEY)
                .and_then(|key| CertificateMaterial::from_secret_data(crt, key, None).ok());
            ClientCa {
                certificates_pem: Some(String::from_utf8_lossy(crt).into_owned()),
                issuer: signer
                    .as_ref()
                    .and_then(|s| Signer::load(s).ok())
                    .map(Arc::new),
                signer,
            }
        }
        // The server certificate's issuers: tls.crt after the leaf, and ca.crt.
        CaLocation::ServerChain(_) => {
            let mut pem = String::from_utf8_lossy(crt).into_owned();
            pem.push_str(&String::from_utf8_lossy(
                data.get(CA_CRT).unwrap_or_default(),
            ));
            ClientCa {
                certificates_pem: Some(pem),
                ..ClientCa::default()
            }
        }
        CaLocation::Unknown => ClientCa::default(),
    }
}

/// What the user's Secret holds, from its annotations (metadata only).
pub fn held(meta: &PartialObjectMeta<Secret>) -> Option<Held> {
    let annotations = meta.metadata.annotations.as_ref()?;
    let get = |key: &str| annotations.get(key).cloned();
    Some(Held {
        serial: get(annotation::SERIAL)?,
        not_after: get(annotation::NOT_AFTER)?.parse().ok()?,
        identity: get(annotation::IDENTITY)?,
        configuration: get(annotation::CONFIGURATION)?,
    })
}

/// What the user's Secret holds, read from the API server (metadata only), not the watch cache.
pub async fn fresh_held(ctx: &Context, namespace: &str, name: &str) -> Result<Option<Held>, Error> {
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let meta = api
        .get_metadata_opt(name)
        .await
        .map_err(|e| Error::Kube("reading the user's Secret", e))?;
    Ok(meta.as_ref().and_then(held))
}

/// Write the user's Secret (type `kubernetes.io/tls`), owned by the user object: created when
/// it is known `absent` (a plain create costs the API server less than an apply; thousands are
/// written at once), server-side applied otherwise or when it exists after all.
pub async fn write_user_secret(
    ctx: &Context,
    owner: &ObjectHandle,
    (name, absent): (&str, bool),
    data: &SecretData,
    held: &Held,
) -> Result<(), Error> {
    let body = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {
            "name": name,
            "namespace": owner.namespace,
            "labels": {
                "app.kubernetes.io/managed-by": FIELD_MANAGER,
                USER_SECRET_LABEL: owner.name,
            },
            "annotations": {
                annotation::SERIAL: held.serial,
                annotation::NOT_AFTER: held.not_after.to_string(),
                annotation::IDENTITY: held.identity,
                annotation::CONFIGURATION: held.configuration,
            },
            "ownerReferences": [owner.owner_reference()],
        },
        "data": crate::runtime::encoded(data),
    });
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &owner.namespace);
    let failed = |e| Error::Kube("writing the user's Secret", e);
    if absent {
        let secret: Secret =
            serde_json::from_value(body.clone()).map_err(|e| failed(kube::Error::SerdeError(e)))?;
        let params = PostParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..PostParams::default()
        };
        match api.create(&params, &secret).await {
            Err(kube::Error::Api(status)) if status.is_already_exists() => {}
            created => return created.map(|_| ()).map_err(failed),
        }
    }
    api.patch(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(body),
    )
    .await
    .map(|_| ())
    .map_err(failed)
}

/// The user's Secret data: profile, certificate, key and the client CA.
pub fn user_secret_data(
    ovpn: &str,
    certificate_pem: &str,
    key_pem: &str,
    ca_pem: &str,
) -> SecretData {
    let mut data = BTreeMap::new();
    data.insert(OVPN_KEY.to_string(), ovpn.as_bytes().to_vec());
    data.insert(TLS_CRT.to_string(), certificate_pem.as_bytes().to_vec());
    data.insert(TLS_KEY.to_string(), key_pem.as_bytes().to_vec());
    data.insert(CA_CRT.to_string(), ca_pem.as_bytes().to_vec());
    SecretData(data)
}
