//! The largest ClientVpnEndpoint the schema allows, shared by the end-to-end pacing test and
//! the benchmark: 5 target networks in 5 zones of one VPC, 200 authorization rules, 100 routes.

use serde_json::{Value, json};

/// The VPC of [`SUBNETS`].
pub const VPC: &str = "vpc-0123456789abcdef0";
/// Five subnets of [`VPC`] in five zones (the emulator's zone is the last hex digit).
pub const SUBNETS: [&str; 5] = [
    "subnet-0123456789abcdef1",
    "subnet-0123456789abcdef2",
    "subnet-0123456789abcdef3",
    "subnet-0123456789abcdef4",
    "subnet-0123456789abcdef5",
];
pub const RULES: usize = 200;
pub const ROUTES: usize = 100;

/// Give `spec` the VPC, every subnet, [`RULES`] rules (172.16.i.0/24) and [`ROUTES`] routes
/// (192.168.i.0/24, spread over the subnets).
pub fn add_children(spec: &mut Value) {
    spec["vpcId"] = json!(VPC);
    spec["targetNetworks"] = json!(SUBNETS.map(|s| json!({"subnetId": s})));
    spec["authorizationRules"] = (0..RULES)
        .map(|i| json!({"targetNetworkCidr": format!("172.16.{i}.0/24"), "authorizeAllGroups": true}))
        .collect();
    spec["routes"] = (0..ROUTES)
        .map(|i| {
            json!({
                "destinationCidrBlock": format!("192.168.{i}.0/24"),
                "targetVpcSubnetId": SUBNETS[i % SUBNETS.len()],
            })
        })
        .collect();
}
