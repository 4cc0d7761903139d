//! Act: execute one planned step through the AWS and Kubernetes seams.

use kube::ResourceExt;

use super::plan::Step;
use super::{Context, Error};
use crate::api::ClientVpnEndpoint;
use crate::cloud::CloudError;

/// Execute a step on `endpoint_id`. Removing something AWS no longer has counts as done.
pub async fn execute(
    obj: &ClientVpnEndpoint,
    ctx: &Context,
    region: &str,
    endpoint_id: &str,
    step: &Step,
) -> Result<(), Error> {
    let cloud = &ctx.cloud;
    let id = endpoint_id;
    match step {
        Step::Create { .. } => Ok(()),
        Step::Delete { endpoint_id } => {
            gone_is_done(cloud.delete_endpoint(region, endpoint_id).await.map(|_| ()))
        }
        Step::Modify(change) => Ok(cloud.modify_endpoint(region, id, change).await?),
        Step::ApplySecurityGroups {
            vpc_id,
            security_group_ids,
        } => Ok(cloud
            .apply_security_groups(region, id, vpc_id, security_group_ids)
            .await?),
        Step::CreateTags(tags) => Ok(cloud.create_tags(region, id, tags).await?),
        Step::DeleteTags(keys) => Ok(cloud.delete_tags(region, id, keys).await?),
        Step::Associate {
            subnet_id,
            client_token,
        } => {
            cloud
                .associate_target_network(region, id, subnet_id, client_token)
                .await?;
            Ok(())
        }
        Step::Disassociate { association_id } => gone_is_done(
            cloud
                .disassociate_target_network(region, id, association_id)
                .await,
        ),
        Step::Authorize {
            rule,
            description,
            client_token,
        } => Ok(cloud
            .authorize_ingress(region, id, rule, description.as_deref(), client_token)
            .await?),
        Step::Revoke { rule } => gone_is_done(cloud.revoke_ingress(region, id, rule).await),
        Step::CreateRoute {
            route,
            description,
            client_token,
        } => Ok(cloud
            .create_route(region, id, route, description.as_deref(), client_token)
            .await?),
        Step::DeleteRoute { route } => gone_is_done(cloud.delete_route(region, id, route).await),
        Step::ExportClientConfiguration {
            config_map_name,
            fingerprint,
        } => {
            let text = cloud.export_client_configuration(region, id).await?;
            ctx.cluster
                .apply_config_map(obj, config_map_name, &text, fingerprint)
                .await
                .map_err(Error::WriteConfigMap)?;
            tracing::info!(object = %obj.name_any(), config_map = %config_map_name, "client configuration exported");
            Ok(())
        }
    }
}

fn gone_is_done(result: Result<(), CloudError>) -> Result<(), Error> {
    match result {
        Err(err) if err.is_not_found() => Ok(()),
        other => Ok(other?),
    }
}
