//! `ClientVpnUser.status` from what one reconcile found (pure), and its change-only write.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::{Context, Error};
use crate::api::{
    ClientVpnUser, ClientVpnUserStatus, RevocationStatus, UserConnections, condition,
};
use crate::runtime::conditions::{Conditions, Standing};
use crate::runtime::{ObjectHandle, StatusWrite, write_status};

/// How the user stands, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub standing: Standing,
    pub reason: &'static str,
    pub message: String,
}

impl Report {
    pub fn new(standing: Standing, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            standing,
            reason,
            message: message.into(),
        }
    }
}

/// The facts to record; `None` fields keep what status had.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub common_name: Option<String>,
    pub endpoint_id: Option<String>,
    pub secret_name: Option<String>,
    pub source: Option<String>,
    pub serial: Option<String>,
    pub not_after: Option<String>,
    pub revocable: Option<bool>,
    pub revoked: Option<bool>,
    pub revocation: Option<RevocationStatus>,
    pub connections: Option<UserConnections>,
    /// Message of `CertificateExpiringSoon`, when it applies.
    pub expiring: Option<String>,
}

/// The next status: the facts over the previous status, the report as conditions.
pub fn compute(
    previous: &ClientVpnUserStatus,
    facts: Facts,
    report: &Report,
    generation: Option<i64>,
    now: &Time,
) -> ClientVpnUserStatus {
    let builder = Conditions {
        previous: &previous.conditions,
        generation,
        now,
    };
    let mut conditions = builder.standing(report.standing, report.reason, &report.message);
    if let Some(message) = &facts.expiring {
        let type_ = condition::CERTIFICATE_EXPIRING_SOON;
        conditions.push(builder.make(type_, true, type_, message));
    }
    let keep = |new: Option<String>, old: &Option<String>| new.or_else(|| old.clone());
    ClientVpnUserStatus {
        common_name: keep(facts.common_name, &previous.common_name),
        client_vpn_endpoint_id: keep(facts.endpoint_id, &previous.client_vpn_endpoint_id),
        secret_name: keep(facts.secret_name, &previous.secret_name),
        source: keep(facts.source, &previous.source),
        serial: keep(facts.serial, &previous.serial),
        not_after: keep(facts.not_after, &previous.not_after),
        revocable: facts.revocable.or(previous.revocable),
        revoked: facts.revoked.unwrap_or(previous.revoked),
        revocation: facts.revocation.or_else(|| previous.revocation.clone()),
        connections: facts.connections.or_else(|| previous.connections.clone()),
        observed_generation: generation,
        conditions,
    }
}

/// Write the status for these facts when it differs from the object's.
pub async fn write(
    ctx: &Context,
    user: &ClientVpnUser,
    handle: &ObjectHandle,
    facts: Facts,
    report: &Report,
) -> Result<StatusWrite, Error> {
    let previous = user.status.clone().unwrap_or_default();
    let now = Time(Timestamp::now());
    let next = compute(&previous, facts, report, user.metadata.generation, &now);
    write_status(ctx.runtime.cluster.as_ref(), handle, &previous, &next)
        .await
        .map_err(|e| Error::Kube("writing status", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Time {
        Time(Timestamp::from_second(seconds).expect("valid"))
    }

    #[test]
    fn facts_not_found_this_time_keep_what_status_had() {
        let previous = ClientVpnUserStatus {
            serial: Some("01".into()),
            not_after: Some("2027-01-01T00:00:00Z".into()),
            ..Default::default()
        };
        let report = Report::new(Standing::NotReady, "EndpointNotFound", "gone");
        let next = compute(&previous, Facts::default(), &report, Some(2), &at(10));
        assert_eq!(next.serial.as_deref(), Some("01"));
        assert_eq!(next.observed_generation, Some(2));
        assert_eq!(next.conditions.len(), 1);
        assert_eq!(next.conditions[0].status, "False");
        assert_eq!(next.conditions[0].reason, "EndpointNotFound");
    }

    #[test]
    fn stalled_and_expiring_soon_are_conditions_of_their_own() {
        let facts = Facts {
            expiring: Some("expires at …".into()),
            ..Default::default()
        };
        let report = Report::new(Standing::Stalled, "CommonNameInUse", "taken");
        let next = compute(
            &ClientVpnUserStatus::default(),
            facts,
            &report,
            None,
            &at(10),
        );
        let types: Vec<&str> = next.conditions.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, ["Ready", "Stalled", "CertificateExpiringSoon"]);
    }
}
