//! Fault injection: random throttling/internal errors, added latency, and scripted
//! "fail the next N calls" rules.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

/// Tells whether an action name exists (the protocol layers know; this module does not).
pub type KnownAction = fn(&str) -> bool;

/// Random faults (`POST /_emulator/faults`). Every field is optional in JSON. Also
/// command-line flags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Probability (0-1) that a call fails with RequestLimitExceeded (HTTP 503) before it is applied.
    #[arg(
        long,
        env = "CLIENTVPN_EMULATOR_THROTTLE_PROBABILITY",
        default_value_t = 0.0
    )]
    pub throttle_probability: f64,
    /// Probability (0-1) that a call fails with InternalError (HTTP 500) before it is applied.
    #[arg(
        long,
        env = "CLIENTVPN_EMULATOR_INTERNAL_ERROR_PROBABILITY",
        default_value_t = 0.0
    )]
    pub internal_error_probability: f64,
    /// Milliseconds added after a call is applied and before its response is sent.
    #[arg(long, env = "CLIENTVPN_EMULATOR_LATENCY_MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Comma-separated action names the three options above apply to (default: all actions).
    #[arg(
        long = "fault-actions",
        env = "CLIENTVPN_EMULATOR_FAULT_ACTIONS",
        value_delimiter = ','
    )]
    pub actions: Option<Vec<String>>,
}

impl Faults {
    pub fn validate(&self, known: KnownAction) -> Result<(), String> {
        for (name, p) in [
            ("throttle_probability", self.throttle_probability),
            (
                "internal_error_probability",
                self.internal_error_probability,
            ),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} must be between 0 and 1, got {p}"));
            }
        }
        for action in self.actions.iter().flatten() {
            check_action(action, known)?;
        }
        Ok(())
    }

    pub fn applies_to(&self, action: &str) -> bool {
        self.actions
            .as_ref()
            .is_none_or(|list| list.iter().any(|a| a == action))
    }
}

/// "Fail the next `count` calls of `action` with `code`" (`POST /_emulator/faults/fail-next`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailNext {
    pub action: String,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default = "internal_error")]
    pub code: String,
    #[serde(default)]
    pub message: Option<String>,
    /// Apply the action first, then return the error (a lost response).
    #[serde(default)]
    pub after_apply: bool,
}

fn one() -> u32 {
    1
}

fn internal_error() -> String {
    "InternalError".to_owned()
}

impl FailNext {
    pub fn validate(&self, known: KnownAction) -> Result<(), String> {
        check_action(&self.action, known)?;
        if self.code.is_empty() {
            return Err("code must not be empty".to_owned());
        }
        Ok(())
    }

    /// Parses the CLI form `ACTION[:COUNT[:CODE[:after-apply]]]` (action names are checked when
    /// the rule is queued).
    pub fn parse_cli(spec: &str) -> Result<Self, String> {
        let mut parts = spec.split(':');
        let action = parts.next().unwrap_or_default().to_owned();
        let count = match parts.next() {
            Some(n) => n
                .parse()
                .map_err(|_| format!("invalid count in {spec:?}"))?,
            None => 1,
        };
        let code = parts.next().map_or_else(internal_error, str::to_owned);
        let after_apply = match parts.next() {
            None => false,
            Some("after-apply") => true,
            Some(other) => return Err(format!("expected 'after-apply', got {other:?}")),
        };
        if action.is_empty() || code.is_empty() {
            return Err(format!(
                "expected ACTION[:COUNT[:CODE[:after-apply]]], got {spec:?}"
            ));
        }
        Ok(Self {
            action,
            count,
            code,
            message: None,
            after_apply,
        })
    }
}

/// Pending fail-next rules, per action, consumed in order.
#[derive(Debug, Clone, Default)]
pub struct FailNextQueue {
    rules: HashMap<String, VecDeque<FailNext>>,
}

impl FailNextQueue {
    /// Validates and queues a rule.
    pub fn push(&mut self, rule: FailNext, known: KnownAction) -> Result<(), String> {
        rule.validate(known)?;
        if rule.count > 0 {
            self.rules
                .entry(rule.action.clone())
                .or_default()
                .push_back(rule);
        }
        Ok(())
    }

    /// Takes one use of the first pending rule for `action`.
    pub fn take(&mut self, action: &str) -> Option<FailNext> {
        let queue = self.rules.get_mut(action)?;
        let front = queue.front_mut()?;
        front.count -= 1;
        let rule = front.clone();
        if front.count == 0 {
            queue.pop_front();
        }
        Some(rule)
    }

    pub fn pending(&self) -> Vec<FailNext> {
        let mut all: Vec<FailNext> = self.rules.values().flatten().cloned().collect();
        all.sort_by(|a, b| a.action.cmp(&b.action));
        all
    }
}

fn check_action(name: &str, known: KnownAction) -> Result<(), String> {
    if known(name) {
        Ok(())
    } else {
        Err(format!("unknown action {name:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(name: &str) -> bool {
        ["CreateClientVpnEndpoint", "CreateTags", "DeleteTags"].contains(&name)
    }

    #[test]
    fn fail_next_is_consumed_in_order() {
        let mut q = FailNextQueue::default();
        q.push(
            FailNext::parse_cli("CreateClientVpnEndpoint:2:Unavailable").unwrap(),
            known,
        )
        .unwrap();
        q.push(
            FailNext::parse_cli("CreateClientVpnEndpoint:1:InternalError:after-apply").unwrap(),
            known,
        )
        .unwrap();
        let a = "CreateClientVpnEndpoint";
        assert_eq!(q.take(a).unwrap().code, "Unavailable");
        assert_eq!(q.take(a).unwrap().code, "Unavailable");
        let last = q.take(a).unwrap();
        assert!(last.after_apply);
        assert!(q.take(a).is_none());
        assert!(q.take("DeleteTags").is_none());
    }

    #[test]
    fn cli_form_is_validated() {
        let unknown = FailNext::parse_cli("NoSuchAction").unwrap();
        assert!(FailNextQueue::default().push(unknown, known).is_err());
        assert!(FailNext::parse_cli("CreateTags:x").is_err());
        assert!(FailNext::parse_cli("CreateTags:1:X:later").is_err());
        let rule = FailNext::parse_cli("CreateTags").unwrap();
        assert_eq!((rule.count, rule.code.as_str()), (1, "InternalError"));
    }

    #[test]
    fn faults_scope_and_validation() {
        let f = Faults {
            actions: Some(vec!["CreateTags".to_owned()]),
            ..Faults::default()
        };
        assert!(f.applies_to("CreateTags"));
        assert!(!f.applies_to("DeleteTags"));
        assert!(Faults::default().applies_to("DeleteTags"));
        let bad = Faults {
            throttle_probability: 1.5,
            ..Faults::default()
        };
        assert!(bad.validate(known).is_err());
        let unknown = Faults {
            actions: Some(vec!["Nope".to_owned()]),
            ..Faults::default()
        };
        assert!(unknown.validate(known).is_err());
    }
}
