//! Short, bounded summaries of planned steps for messages and events.

use super::model::Step;
use super::settings::changed_fields;

/// One line for a list of steps, e.g. `modify vpnPort; associate subnet-1`.
pub fn describe_steps(steps: &[Step]) -> String {
    let parts: Vec<String> = steps.iter().map(describe).collect();
    parts.join("; ")
}

fn describe(step: &Step) -> String {
    match step {
        Step::Modify(change) => format!("modify {}", changed_fields(change).join(", ")),
        Step::ApplySecurityGroups { .. } => "apply security groups".into(),
        Step::CreateTags(tags) => format!(
            "set tags {}",
            tags.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        Step::DeleteTags(keys) => format!("remove tags {}", keys.join(", ")),
        Step::Associate { subnet_id, .. } => format!("associate {subnet_id}"),
        Step::Disassociate { association_id } => format!("disassociate {association_id}"),
        Step::Authorize { rule, .. } => format!("authorize {}", rule.target_network_cidr),
        Step::Revoke { rule } => format!("revoke {}", rule.target_network_cidr),
        Step::CreateRoute { route, .. } => format!("add route {}", route.destination_cidr_block),
        Step::DeleteRoute { route } => format!("delete route {}", route.destination_cidr_block),
        Step::ExportClientConfiguration {
            config_map_name, ..
        } => format!("export configuration to {config_map_name}"),
        Step::Create(_) => "create endpoint".into(),
        Step::Delete { endpoint_id } => format!("delete {endpoint_id}"),
    }
}
