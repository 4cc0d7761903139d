//! Adapter ↔ emulator: `Ec2ClientVpn`, i.e. the real aws-sdk-ec2 client over HTTP, against a
//! `clientvpn-emulator` process on port 0. Every trait method goes over the wire; the emulator
//! rejects unknown or misspelled parameters, so a serialization mistake fails here.
//!
//! Each test starts its own emulator (a few milliseconds) with tiny lifecycle delays, so tests
//! run in parallel and the control API's call counters belong to one test.

mod emulator;
mod support;

mod attempts;
mod children;
mod endpoints;
mod errors;
mod modify;
