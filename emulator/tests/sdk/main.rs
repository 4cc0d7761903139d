//! The emulator exercised by the real `aws-sdk-ec2` client over HTTP (plus raw HTTP where the
//! SDK hides the wire). One test binary; every test starts its own emulator on port 0.

mod certs;
mod common;
mod requests;

mod acm;
mod associations;
mod connections;
mod control;
mod describe;
mod endpoints;
mod export;
mod limits;
mod protocol;
mod rate_limits;
mod routes;
mod rules;
mod semantics;
mod tags;
