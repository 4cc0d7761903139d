//! What to do with a user's certificate and Secret, decided from the Secret's annotations alone
//! (no key material is read to decide). Pure and table-tested.

/// What the operator's Secret says about the certificate it holds (its annotations).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    /// Colon-separated hex.
    pub serial: String,
    /// notAfter, unix seconds.
    pub not_after: i64,
    /// What the certificate was made from ([`Inputs::identity`] then).
    pub identity: String,
    /// The client configuration it was written with ([`Inputs::configuration`] then).
    pub configuration: String,
}

/// What the certificate and configuration should be made from now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inputs {
    /// Brought in a Secret (true) or issued by the operator (false).
    pub brought: bool,
    /// Common name and the CA (managed) or source Secret (brought) version.
    pub identity: String,
    /// The endpoint's configuration key.
    pub configuration: String,
    /// Renew this many seconds before notAfter (issued certificates).
    pub renew_before: i64,
}

/// Why a certificate is issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueReason {
    /// None held yet.
    First,
    /// Within the renewal window: the held one is superseded (revoked after a grace period).
    Renewal,
    /// The held one is on the revocation record (access was revoked, then given back).
    Revoked,
    /// The common name or the CA changed: the held one is from another CA.
    IdentityChanged,
}

impl IssueReason {
    /// Whether the held certificate must be revoked once the new one is in the Secret.
    pub fn supersedes(self) -> bool {
        self == IssueReason::Renewal
    }

    /// Whether the new certificate gets a `CertificateIssued` event: a re-issue replaces a
    /// profile people hold, so it is news; a first certificate is in the Ready condition (no
    /// event per user when thousands are created at once), and a renewal has its own event.
    pub fn announced(self) -> bool {
        matches!(self, IssueReason::Revoked | IssueReason::IdentityChanged)
    }
}

/// The step for the certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateStep {
    /// Nothing to do.
    Keep,
    /// Same certificate and key, new client configuration.
    Rewrite,
    /// Issue a new certificate with the managed CA.
    Issue(IssueReason),
    /// Copy the brought certificate (new or changed) into the Secret.
    Bring,
}

/// Decide the step at `now` (unix seconds). `held_is_revoked`: the held serial is on the
/// endpoint's revocation record.
pub fn certificate_step(
    held: Option<&Held>,
    inputs: &Inputs,
    held_is_revoked: bool,
    now: i64,
) -> CertificateStep {
    let Some(held) = held else {
        return if inputs.brought {
            CertificateStep::Bring
        } else {
            CertificateStep::Issue(IssueReason::First)
        };
    };
    if inputs.brought {
        return if held.identity != inputs.identity || held.configuration != inputs.configuration {
            CertificateStep::Bring
        } else {
            CertificateStep::Keep
        };
    }
    if held.identity != inputs.identity {
        CertificateStep::Issue(IssueReason::IdentityChanged)
    } else if held_is_revoked {
        CertificateStep::Issue(IssueReason::Revoked)
    } else if now >= renewal_time(held, inputs) {
        CertificateStep::Issue(IssueReason::Renewal)
    } else if held.configuration != inputs.configuration {
        CertificateStep::Rewrite
    } else {
        CertificateStep::Keep
    }
}

/// When the held certificate is due for renewal.
pub fn renewal_time(held: &Held, inputs: &Inputs) -> i64 {
    held.not_after.saturating_sub(inputs.renew_before)
}

/// Seconds of a Go-style duration (`8760h`, `90m`, `1h30m`, `45s`); None when malformed.
pub fn duration_secs(text: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let value: i64 = number.parse().ok()?;
        total = total.checked_add(value.checked_mul(unit)?)?;
        number.clear();
    }
    (number.is_empty() && !text.is_empty()).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(brought: bool) -> Inputs {
        Inputs {
            brought,
            identity: "id-1".into(),
            configuration: "cfg-1".into(),
            renew_before: 100,
        }
    }

    fn held() -> Held {
        Held {
            serial: "01".into(),
            not_after: 1_000,
            identity: "id-1".into(),
            configuration: "cfg-1".into(),
        }
    }

    #[test]
    fn issued_certificates() {
        use CertificateStep::*;
        use IssueReason::*;
        let other_identity = Held {
            identity: "id-0".into(),
            ..held()
        };
        let other_config = Held {
            configuration: "cfg-0".into(),
            ..held()
        };
        let cases: [(&str, Option<Held>, bool, i64, CertificateStep); 7] = [
            ("none held", None, false, 0, Issue(First)),
            ("current", Some(held()), false, 899, Keep),
            (
                "renewal window reached",
                Some(held()),
                false,
                900,
                Issue(Renewal),
            ),
            (
                "revoked, then given back",
                Some(held()),
                true,
                0,
                Issue(Revoked),
            ),
            (
                "CA changed",
                Some(other_identity),
                false,
                0,
                Issue(IdentityChanged),
            ),
            (
                "endpoint configuration changed",
                Some(other_config.clone()),
                false,
                0,
                Rewrite,
            ),
            (
                "renewal wins over a rewrite",
                Some(other_config),
                false,
                950,
                Issue(Renewal),
            ),
        ];
        for (name, held, revoked, now, want) in cases {
            assert_eq!(
                certificate_step(held.as_ref(), &inputs(false), revoked, now),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn brought_certificates_are_copied_when_anything_changed() {
        let brought = inputs(true);
        assert_eq!(
            certificate_step(None, &brought, false, 0),
            CertificateStep::Bring
        );
        assert_eq!(
            certificate_step(Some(&held()), &brought, false, 5_000),
            CertificateStep::Keep,
            "the operator never renews a brought certificate"
        );
        let changed = Held {
            identity: "id-0".into(),
            ..held()
        };
        assert_eq!(
            certificate_step(Some(&changed), &brought, false, 0),
            CertificateStep::Bring
        );
    }

    #[test]
    fn re_issues_are_announced_first_certificates_and_renewals_are_not() {
        assert!(IssueReason::Revoked.announced());
        assert!(IssueReason::IdentityChanged.announced());
        assert!(!IssueReason::First.announced());
        assert!(!IssueReason::Renewal.announced());
    }

    #[test]
    fn only_a_renewal_supersedes() {
        assert!(IssueReason::Renewal.supersedes());
        assert!(!IssueReason::Revoked.supersedes());
        assert!(!IssueReason::First.supersedes());
    }

    #[test]
    fn go_durations() {
        assert_eq!(duration_secs("8760h"), Some(31_536_000));
        assert_eq!(duration_secs("1h30m"), Some(5_400));
        assert_eq!(duration_secs("90s"), Some(90));
        assert_eq!(duration_secs("0s"), Some(0));
        assert_eq!(duration_secs("5"), None);
        assert_eq!(duration_secs("5d"), None);
        assert_eq!(duration_secs(""), None);
    }
}
