//! Act: execute planned steps through the AWS and Kubernetes seams, Create included.

use tracing::info;

use super::plan::Step;
use super::{Context, Error, Target};
use crate::cloud::{CloudError, CreatedEndpoint, ErrorKind};

/// Execute `steps` in order on `endpoint_id` (empty before the endpoint exists). Returns what
/// Create answered, if a step created the endpoint.
pub async fn execute_all(
    ctx: &Context,
    target: &Target,
    endpoint_id: &str,
    steps: &[Step],
) -> Result<Option<CreatedEndpoint>, Error> {
    let mut created = None;
    for step in steps {
        if let Some(endpoint) = execute(ctx, target, endpoint_id, step).await? {
            created = Some(endpoint);
        }
        target.progress.made();
    }
    Ok(created)
}

/// Execute one step. Removing something AWS no longer has counts as done.
async fn execute(
    ctx: &Context,
    target: &Target,
    id: &str,
    step: &Step,
) -> Result<Option<CreatedEndpoint>, Error> {
    let cloud = &ctx.cloud;
    let region = target.region()?;
    match step {
        Step::Create(request) => return create(ctx, target, request).await.map(Some),
        Step::Delete { endpoint_id } => {
            gone_is_done(cloud.delete_endpoint(region, endpoint_id).await.map(|_| ()))?
        }
        Step::Modify(change) => cloud.modify_endpoint(region, id, change).await?,
        Step::ApplySecurityGroups {
            vpc_id,
            security_group_ids,
        } => {
            cloud
                .apply_security_groups(region, id, vpc_id, security_group_ids)
                .await?
        }
        Step::CreateTags(tags) => cloud.create_tags(region, id, tags).await?,
        Step::DeleteTags(keys) => cloud.delete_tags(region, id, keys).await?,
        Step::Associate {
            subnet_id,
            client_token,
        } => {
            cloud
                .associate_target_network(region, id, subnet_id, client_token)
                .await?;
        }
        Step::Disassociate { association_id } => gone_is_done(
            cloud
                .disassociate_target_network(region, id, association_id)
                .await,
        )?,
        Step::Authorize {
            rule,
            description,
            client_token,
        } => {
            cloud
                .authorize_ingress(region, id, rule, description.as_deref(), client_token)
                .await?
        }
        Step::Revoke { rule } => gone_is_done(cloud.revoke_ingress(region, id, rule).await)?,
        Step::CreateRoute {
            route,
            description,
            client_token,
        } => {
            cloud
                .create_route(region, id, route, description.as_deref(), client_token)
                .await?
        }
        Step::DeleteRoute { route } => gone_is_done(cloud.delete_route(region, id, route).await)?,
        Step::ExportClientConfiguration {
            config_map_name,
            fingerprint,
        } => {
            let text = cloud.export_client_configuration(region, id).await?;
            ctx.cluster()
                .apply_config_map(&target.handle, config_map_name, &text, fingerprint)
                .await
                .map_err(Error::WriteConfigMap)?;
            info!(object = %target.handle.key(), config_map = %config_map_name, "client configuration exported");
        }
    }
    Ok(None)
}

/// Create the endpoint and remember its ID at once, before anything else can fail.
async fn create(
    ctx: &Context,
    target: &Target,
    request: &crate::cloud::CreateEndpoint,
) -> Result<CreatedEndpoint, Error> {
    let region = target.region()?;
    let created = match ctx.cloud.create_endpoint(region, request).await {
        Ok(created) => created,
        Err(mut err) if err.code == "IdempotentParameterMismatch" => {
            // Our token was used with another spec: an endpoint of this object exists that the
            // region listing did not show yet. List again and retry soon.
            ctx.inventory.invalidate(region).await;
            err.kind = ErrorKind::Retryable;
            return Err(err.into());
        }
        Err(err) => return Err(err.into()),
    };
    ctx.memory
        .created(&target.uid, &created.id, target.generation);
    info!(endpoint = %created.id, %region, "created endpoint");
    Ok(created)
}

fn gone_is_done(result: Result<(), CloudError>) -> Result<(), Error> {
    match result {
        Err(err) if err.is_not_found() => Ok(()),
        other => Ok(other?),
    }
}
