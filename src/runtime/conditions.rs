//! kstatus-style conditions for any kind: `Ready`, and `Reconciling` or `Stalled` beside it,
//! each keeping its `lastTransitionTime` unless its status flips. Pure.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::api::condition;

/// How an object stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Ready=True.
    Ready,
    /// Ready=False, nothing in progress.
    NotReady,
    /// Ready=False, Reconciling=True: the operator is working on it.
    Reconciling,
    /// Ready=False, Stalled=True: it cannot progress without help.
    Stalled,
}

/// Builds conditions against the previous ones.
pub struct Conditions<'a> {
    pub previous: &'a [Condition],
    pub generation: Option<i64>,
    pub now: &'a Time,
}

impl Conditions<'_> {
    /// One condition.
    pub fn make(&self, type_: &str, status: bool, reason: &str, message: &str) -> Condition {
        let status = if status { "True" } else { "False" }.to_string();
        let last_transition_time = self
            .previous
            .iter()
            .find(|c| c.type_ == type_ && c.status == status)
            .map(|c| c.last_transition_time.clone())
            .unwrap_or_else(|| self.now.clone());
        Condition {
            type_: type_.to_string(),
            status,
            reason: reason.to_string(),
            message: message.to_string(),
            observed_generation: self.generation,
            last_transition_time,
        }
    }

    /// `Ready`, and `Reconciling` or `Stalled` for those standings.
    pub fn standing(&self, standing: Standing, reason: &str, message: &str) -> Vec<Condition> {
        let ready = self.make(
            condition::READY,
            standing == Standing::Ready,
            reason,
            message,
        );
        match standing {
            Standing::Ready | Standing::NotReady => vec![ready],
            Standing::Reconciling => vec![
                ready,
                self.make(condition::RECONCILING, true, reason, message),
            ],
            Standing::Stalled => vec![ready, self.make(condition::STALLED, true, reason, message)],
        }
    }
}
