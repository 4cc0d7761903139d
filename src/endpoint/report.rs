//! The wording of every event the endpoint controller publishes.

use super::plan::{Health, Step, describe_steps, disruptive_fields};
use super::{Context, Target};
use crate::api::CertificateRole;
use crate::runtime::Notice;

async fn publish(ctx: &Context, target: &Target, notice: Notice) {
    ctx.cluster().publish(&target.handle, notice).await;
}

/// An endpoint found by tag or named by the adoption annotation is now the object's.
pub async fn adopted(ctx: &Context, target: &Target, endpoint_id: &str) {
    let note =
        format!("took over AWS endpoint {endpoint_id} (found by tag or adoption annotation)");
    publish(ctx, target, Notice::normal("Adopted", "FindEndpoint", note)).await;
}

/// Before changes: a warning when live VPN connections will drop, then what is corrected
/// (drift) or updated.
pub async fn announce(ctx: &Context, target: &Target, steps: &[Step], health: &Health) {
    let acting: Vec<Step> = steps.iter().filter(|s| s.mutates_aws()).cloned().collect();
    if acting.is_empty() {
        return;
    }
    for step in &acting {
        if let Step::Modify(change) = step {
            let fields = disruptive_fields(change);
            if !fields.is_empty() {
                let note = format!(
                    "changing {} drops live VPN connections; applying now",
                    fields.join(", ")
                );
                let notice = Notice::warning("DisruptiveChange", "ModifyEndpoint", note);
                publish(ctx, target, notice).await;
            }
        }
    }
    let summary = describe_steps(&acting);
    let notice = if health.reason() == "DriftCorrected" {
        Notice::warning(
            "DriftCorrected",
            "Reconcile",
            format!("AWS differed from the spec; correcting: {summary}"),
        )
    } else {
        Notice::normal("Updating", "Reconcile", summary)
    };
    publish(ctx, target, notice).await;
}

/// The recorded endpoint was deleted outside the operator and is about to be recreated.
pub async fn recreating(ctx: &Context, target: &Target, old_id: &str) {
    let note =
        format!("AWS endpoint {old_id} was deleted outside the operator; creating a new one");
    let notice = Notice::warning("EndpointDeletedOutOfBand", "CreateEndpoint", note);
    publish(ctx, target, notice).await;
}

/// An endpoint was created.
pub async fn created(ctx: &Context, target: &Target, endpoint_id: &str, region: &str) {
    let note = format!("created AWS endpoint {endpoint_id} in {region}");
    let notice = Notice::normal("Created", "CreateEndpoint", note);
    publish(ctx, target, notice).await;
}

/// Progress needs a spec change or help.
pub async fn stalled(ctx: &Context, target: &Target, reason: &str, message: String) {
    publish(ctx, target, Notice::warning(reason, "Reconcile", message)).await;
}

/// Teardown or deletion steps were taken.
pub async fn deleting(ctx: &Context, target: &Target, steps: &[Step]) {
    let note = describe_steps(steps);
    let notice = Notice::normal("Deleting", "DeleteEndpoint", note);
    publish(ctx, target, notice).await;
}

/// The finalizer is about to go: the endpoint is gone, or retained.
pub async fn released(ctx: &Context, target: &Target, retained: bool, endpoint_id: Option<&str>) {
    let note = match (retained, endpoint_id) {
        (true, Some(id)) => format!("deletionPolicy is Retain: AWS endpoint {id} is left in place"),
        (true, None) => "deletionPolicy is Retain: nothing in AWS was touched".to_string(),
        (false, _) => "AWS reports the endpoint gone".to_string(),
    };
    let reason = if retained { "Retained" } else { "Deleted" };
    publish(ctx, target, Notice::normal(reason, "RemoveFinalizer", note)).await;
}

/// A reconcile failed.
pub async fn failed(ctx: &Context, target: &Target, category: &str, message: String) {
    publish(ctx, target, Notice::warning(category, "Reconcile", message)).await;
}

/// The managed CA issued a CA or server certificate into a Secret.
pub async fn certificate_issued(ctx: &Context, target: &Target, what: &str, secret: &str) {
    let note = format!("issued a new {what} into Secret {secret}");
    let notice = Notice::normal("CertificateIssued", "IssueCertificate", note);
    publish(ctx, target, notice).await;
}

/// A certificate went into ACM: a first import, or a renewal re-imported into the same ARN.
pub async fn certificate_imported(
    ctx: &Context,
    target: &Target,
    role: CertificateRole,
    arn: &str,
    reimport: bool,
) {
    let (reason, what) = if reimport {
        ("CertificateReimported", "re-imported the renewed")
    } else {
        ("CertificateImported", "imported the")
    };
    let role = match role {
        CertificateRole::Server => "server certificate",
        CertificateRole::ClientRoot => "client root certificate chain",
    };
    let note = format!("{what} {role} into ACM as {arn}");
    let notice = Notice::normal(reason, "ImportCertificate", note);
    publish(ctx, target, notice).await;
}

/// A certificate the operator imported was deleted from ACM after the endpoint.
pub async fn certificate_deleted(ctx: &Context, target: &Target, arn: &str) {
    let note = format!("deleted ACM certificate {arn}");
    let notice = Notice::normal("CertificateDeleted", "DeleteCertificate", note);
    publish(ctx, target, notice).await;
}
