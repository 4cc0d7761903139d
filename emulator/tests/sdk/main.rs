use aws_config as _;
use aws_sdk_ec2 as _;
#[test]
fn t() {}
