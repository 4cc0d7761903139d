//! The revocation record's Secret (`<endpoint>-revocations`, owned by the endpoint object, so it
//! lives and goes with the endpoint and its CA): read, and changed with optimistic concurrency
//! so that concurrent revocations never overwrite each other.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ObjectMeta, PostParams};
use kube::{Client, ResourceExt};

use super::Error;
use super::caches::ByVersion;
use super::record::Record;
use crate::api::FIELD_MANAGER;
use crate::runtime::ObjectHandle;

/// Key of the record in the Secret.
pub const RECORD_KEY: &str = "revoked-serials";
/// Key of the last list built from it (public data, for people and tools).
pub const CRL_KEY: &str = "crl.pem";

/// Name of an endpoint's record Secret.
pub fn record_secret_name(endpoint: &str) -> String {
    format!("{endpoint}-revocations")
}

/// Reads and changes revocation records; reads are cached by the Secret's resourceVersion.
pub struct RecordStore {
    client: Client,
    cache: ByVersion<Record>,
}

impl RecordStore {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            cache: ByVersion::default(),
        }
    }

    /// The record of `endpoint` as of `version` (the record Secret's resourceVersion in the
    /// watch cache; `None`: no Secret seen). Read from the API only when the version changed.
    pub async fn read_at(
        &self,
        namespace: &str,
        endpoint: &str,
        version: Option<String>,
    ) -> Result<Arc<Record>, Error> {
        let key = format!("{namespace}/{endpoint}");
        let Some(version) = version else {
            return Ok(Arc::new(Record::default()));
        };
        if let Some(record) = self.cache.get(&key, &version) {
            return Ok(record);
        }
        let record = Arc::new(self.read(namespace, endpoint).await?);
        self.cache.put(key, version, record.clone());
        Ok(record)
    }

    fn api(&self, namespace: &str) -> Api<Secret> {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// The record of `endpoint` (empty when there is none yet).
    pub async fn read(&self, namespace: &str, endpoint: &str) -> Result<Record, Error> {
        let secret = self
            .api(namespace)
            .get_opt(&record_secret_name(endpoint))
            .await
            .map_err(|e| Error::Kube("reading the revocation record", e))?;
        Ok(match secret.as_ref().and_then(record_bytes) {
            Some(bytes) => Record::decode(bytes)?,
            None => Record::default(),
        })
    }

    /// Apply `change` to the record of the endpoint `owner` and store it when `change` says it
    /// changed something (`crl` replaces the stored list); conflicts are retried on a fresh
    /// read. Returns the record as stored.
    pub async fn update(
        &self,
        owner: &ObjectHandle,
        crl: Option<&str>,
        mut change: impl FnMut(&mut Record) -> bool,
    ) -> Result<Record, Error> {
        let api = self.api(&owner.namespace);
        let name = record_secret_name(&owner.name);
        loop {
            let existing = api
                .get_opt(&name)
                .await
                .map_err(|e| Error::Kube("reading the revocation record", e))?;
            let mut record = match existing.as_ref().and_then(record_bytes) {
                Some(bytes) => Record::decode(bytes)?,
                None => Record::default(),
            };
            if !change(&mut record) {
                return Ok(record);
            }
            let mut data = existing
                .as_ref()
                .and_then(|s| s.data.clone())
                .unwrap_or_default();
            data.insert(RECORD_KEY.into(), ByteString(record.encode()));
            if let Some(crl) = crl {
                data.insert(CRL_KEY.into(), ByteString(crl.as_bytes().to_vec()));
            }
            let result = match existing {
                Some(mut secret) => {
                    secret.data = Some(data);
                    api.replace(&name, &PostParams::default(), &secret).await
                }
                None => {
                    api.create(&PostParams::default(), &new_secret(owner, &name, data))
                        .await
                }
            };
            match result {
                Ok(_) => return Ok(record),
                // Someone else changed (or created) it: read again and re-apply.
                Err(kube::Error::Api(status)) if status.code == 409 => continue,
                Err(e) => return Err(Error::Kube("writing the revocation record", e)),
            }
        }
    }
}

fn record_bytes(secret: &Secret) -> Option<&[u8]> {
    secret
        .data
        .as_ref()?
        .get(RECORD_KEY)
        .map(|value| value.0.as_slice())
}

fn new_secret(owner: &ObjectHandle, name: &str, data: BTreeMap<String, ByteString>) -> Secret {
    let mut secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(owner.namespace.clone()),
            owner_references: Some(vec![owner.owner_reference()]),
            ..Default::default()
        },
        data: Some(data),
        type_: Some("Opaque".into()),
        ..Default::default()
    };
    secret
        .labels_mut()
        .insert("app.kubernetes.io/managed-by".into(), FIELD_MANAGER.into());
    secret
}
