//! Addresses and the emulator's deterministic network conventions.
//!
//! There are no real VPCs or subnets, so their properties are derived from their ids:
//! * a subnet `subnet-<hex>` lives in VPC `vpc-<hex with its last digit replaced by 0>`, in
//!   availability zone `<region>` + `abcdef`[value of the last hex digit mod 6];
//! * a VPC `vpc-<hex>` has CIDR `10.<first two hex digits as a number>.0.0/16`;
//! * a VPC's default security group is `sg-<same hex as the VPC>`.
//!
//! Ids must be the AWS shape: the prefix and 8 or 17 lowercase hex digits.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net};

use super::error::Ec2Error;

/// Parses a CIDR that must be in canonical form (no host bits set).
pub fn parse_cidr(parameter: &str, value: &str) -> Result<IpNet, Ec2Error> {
    let net: IpNet = value
        .parse()
        .map_err(|_| Ec2Error::invalid_value(parameter, value, "Expected a CIDR block."))?;
    if net.trunc() != net {
        return Err(Ec2Error::invalid_value(
            parameter,
            value,
            "The CIDR block has host bits set.",
        ));
    }
    Ok(net)
}

/// The client CIDR: IPv4, /12 … /22 inclusive.
pub fn parse_client_cidr(value: &str) -> Result<Ipv4Net, Ec2Error> {
    let net = match parse_cidr("ClientCidrBlock", value)? {
        IpNet::V4(net) => net,
        IpNet::V6(_) => {
            return Err(Ec2Error::invalid_value(
                "ClientCidrBlock",
                value,
                "The client CIDR block must be an IPv4 range.",
            ));
        }
    };
    if !(12..=22).contains(&net.prefix_len()) {
        return Err(Ec2Error::invalid(format!(
            "Client CIDR block {value} is invalid: the prefix length must be between /12 and /22."
        )));
    }
    Ok(net)
}

pub fn parse_ip(parameter: &str, value: &str) -> Result<IpAddr, Ec2Error> {
    value
        .parse()
        .map_err(|_| Ec2Error::invalid_value(parameter, value, "Expected an IP address."))
}

pub fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The hex part of an id such as `vpc-0123456789abcdef0` (8 or 17 lowercase hex digits).
fn hex_part<'a>(id: &'a str, prefix: &str) -> Option<&'a str> {
    let hex = id.strip_prefix(prefix)?;
    let ok = matches!(hex.len(), 8 | 17)
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    ok.then_some(hex)
}

fn malformed(id: &str, prefix: &str) -> Ec2Error {
    Ec2Error::invalid(format!("Invalid id: \"{id}\" (expecting \"{prefix}...\")"))
}

pub fn check_vpc_id(id: &str) -> Result<(), Ec2Error> {
    hex_part(id, "vpc-")
        .map(|_| ())
        .ok_or_else(|| malformed(id, "vpc-"))
}

pub fn check_security_group_id(id: &str) -> Result<(), Ec2Error> {
    hex_part(id, "sg-")
        .map(|_| ())
        .ok_or_else(|| malformed(id, "sg-"))
}

/// What the emulator knows about a subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    pub vpc_id: String,
    pub availability_zone: String,
}

/// Derives the VPC and availability zone of a subnet id (see module docs).
pub fn subnet(id: &str, region: &str) -> Result<Subnet, Ec2Error> {
    let hex = hex_part(id, "subnet-").ok_or_else(|| {
        Ec2Error::new(
            "InvalidClientVpnSubnetId.NotFound",
            format!("The subnet ID '{id}' does not exist"),
        )
    })?;
    let (head, last) = hex.split_at(hex.len() - 1);
    let digit = u32::from_str_radix(last, 16).unwrap_or(0);
    let letter = char::from(b"abcdef"[(digit % 6) as usize]);
    Ok(Subnet {
        vpc_id: format!("vpc-{head}0"),
        availability_zone: format!("{region}{letter}"),
    })
}

/// The CIDR of a (well-formed) VPC id: `10.<first two hex digits>.0.0/16`.
pub fn vpc_cidr(vpc_id: &str) -> IpNet {
    let octet = hex_part(vpc_id, "vpc-")
        .and_then(|hex| u8::from_str_radix(&hex[..2], 16).ok())
        .unwrap_or(0);
    IpNet::V4(Ipv4Net::new_assert([10, octet, 0, 0].into(), 16))
}

/// The default security group of a VPC: `sg-` + the VPC's hex.
pub fn default_security_group(vpc_id: &str) -> String {
    format!("sg-{}", vpc_id.trim_start_matches("vpc-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_cidr_size_limits() {
        for (cidr, ok) in [
            ("10.0.0.0/22", true),
            ("10.0.0.0/12", true),
            ("10.0.0.0/11", false),
            ("10.0.0.0/23", false),
            ("10.0.0.1/22", false),
            ("fd00::/56", false),
            ("nonsense", false),
        ] {
            assert_eq!(parse_client_cidr(cidr).is_ok(), ok, "{cidr}");
        }
    }

    #[test]
    fn subnet_conventions() {
        let s = subnet("subnet-0123456789abcdef1", "us-east-1").unwrap();
        assert_eq!(s.vpc_id, "vpc-0123456789abcdef0");
        assert_eq!(s.availability_zone, "us-east-1b");
        let s = subnet("subnet-1234567a", "eu-west-1").unwrap();
        assert_eq!(s.vpc_id, "vpc-12345670");
        assert_eq!(s.availability_zone, "eu-west-1e"); // 0xa = 10, 10 % 6 = 4
        assert_eq!(
            subnet("subnet-xyz", "us-east-1").unwrap_err().code(),
            "InvalidClientVpnSubnetId.NotFound"
        );
    }

    #[test]
    fn vpc_conventions() {
        assert_eq!(vpc_cidr("vpc-0123456789abcdef0").to_string(), "10.1.0.0/16");
        assert_eq!(vpc_cidr("vpc-ff345678").to_string(), "10.255.0.0/16");
        assert_eq!(default_security_group("vpc-12345678"), "sg-12345678");
        assert!(check_vpc_id("vpc-12345678").is_ok());
        assert!(check_vpc_id("vpc-123").is_err());
        assert!(check_security_group_id("sg-0123456789abcdef0").is_ok());
        assert!(check_security_group_id("sg-ABCDEF12").is_err());
    }

    #[test]
    fn overlap() {
        let a: IpNet = "10.1.0.0/16".parse().unwrap();
        let b: IpNet = "10.0.0.0/12".parse().unwrap();
        let c: IpNet = "172.16.0.0/22".parse().unwrap();
        assert!(overlaps(&a, &b) && overlaps(&b, &a));
        assert!(!overlaps(&a, &c));
    }
}
