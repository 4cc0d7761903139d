//! The 17 Client VPN actions: parsing the `Action` name, dispatch to one module per resource,
//! and what they share (endpoint lookup, DryRun, ClientToken idempotency, filters, pagination).

mod associations;
mod endpoints;
mod export;
mod routes;
mod rules;
mod tags;

use std::time::{Duration, Instant};

use crate::auth::Caller;
use crate::clock::Now;
use crate::error::Ec2Error;
use crate::ids::Rng;
use crate::model::{Endpoint, EndpointState, IdempotencyRecord, Region};
use crate::query::Params;
use crate::state::{Limits, Timing, World};

macro_rules! actions {
    ($($name:ident => $module:ident::$handler:ident($params:ident)),+ $(,)?) => {
        /// An EC2 action the emulator implements.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($name),+
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$name),+];

            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$name => stringify!($name)),+
                }
            }

            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $(stringify!($name) => Some(Action::$name),)+
                    _ => None,
                }
            }

            /// Every parameter the action accepts, list indexes written as `#`.
            pub fn params(self) -> &'static [&'static str] {
                match self {
                    $(Action::$name => $module::$params),+
                }
            }

            fn run(self, ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
                match self {
                    $(Action::$name => $module::$handler(ctx, region, p)),+
                }
            }
        }
    };
}

actions! {
    CreateClientVpnEndpoint => endpoints::create(CREATE_PARAMS),
    DescribeClientVpnEndpoints => endpoints::describe(DESCRIBE_PARAMS),
    ModifyClientVpnEndpoint => endpoints::modify(MODIFY_PARAMS),
    DeleteClientVpnEndpoint => endpoints::delete(DELETE_PARAMS),
    AssociateClientVpnTargetNetwork => associations::associate(ASSOCIATE_PARAMS),
    DisassociateClientVpnTargetNetwork => associations::disassociate(DISASSOCIATE_PARAMS),
    DescribeClientVpnTargetNetworks => associations::describe(DESCRIBE_PARAMS),
    ApplySecurityGroupsToClientVpnTargetNetwork => associations::apply_security_groups(APPLY_SECURITY_GROUPS_PARAMS),
    AuthorizeClientVpnIngress => rules::authorize(AUTHORIZE_PARAMS),
    RevokeClientVpnIngress => rules::revoke(REVOKE_PARAMS),
    DescribeClientVpnAuthorizationRules => rules::describe(DESCRIBE_PARAMS),
    CreateClientVpnRoute => routes::create(CREATE_PARAMS),
    DeleteClientVpnRoute => routes::delete(DELETE_PARAMS),
    DescribeClientVpnRoutes => routes::describe(DESCRIBE_PARAMS),
    CreateTags => tags::create(CREATE_PARAMS),
    DeleteTags => tags::delete(DELETE_PARAMS),
    ExportClientVpnClientConfiguration => export::export(EXPORT_PARAMS),
}

/// Runs one action against the caller's region and returns the response body (the children of
/// `<{Action}Response>` after `<requestId>`).
pub fn execute(
    world: &mut World,
    caller: &Caller,
    action: Action,
    params: &Params,
    now: Now,
) -> Result<String, Ec2Error> {
    params.check_allowed(action.params())?;
    let dry_run = params.bool("DryRun")?.unwrap_or(false);
    let region = world
        .regions
        .entry((caller.account_id.clone(), caller.region.clone()))
        .or_default();
    region.advance(&now);
    let mut ctx = Ctx {
        action,
        region_name: &caller.region,
        now,
        timing: world.timing,
        limits: world.limits,
        rng: &mut world.rng,
        dry_run,
        scheduled: None,
    };
    let result = action.run(&mut ctx, region, params);
    region.schedule(ctx.scheduled);
    result
}

/// What a handler knows about the request besides its parameters.
pub struct Ctx<'a> {
    pub action: Action,
    pub region_name: &'a str,
    pub now: Now,
    pub timing: Timing,
    pub limits: Limits,
    pub rng: &'a mut Rng,
    pub dry_run: bool,
    scheduled: Option<Instant>,
}

impl Ctx<'_> {
    /// Call once validation has passed: with `DryRun=true` this is where the request stops,
    /// with `DryRunOperation` (412) and no changes.
    pub fn proceed(&self) -> Result<(), Ec2Error> {
        if self.dry_run {
            Err(Ec2Error::dry_run())
        } else {
            Ok(())
        }
    }

    /// The instant a transition started now ends, remembered so the region wakes up for it.
    pub fn due_in(&mut self, delay: Duration) -> Instant {
        let at = self.now.after(delay);
        self.scheduled = Some(self.scheduled.map_or(at, |s| s.min(at)));
        at
    }
}

/// An endpoint that can be read (anything but `deleted`).
pub fn endpoint<'r>(region: &'r Region, id: &str) -> Result<&'r Endpoint, Ec2Error> {
    match region.endpoints.get(id) {
        Some(ep) if ep.status != EndpointState::Deleted => Ok(ep),
        _ => Err(Ec2Error::endpoint_not_found(id)),
    }
}

/// An endpoint that can be changed (not `deleting` or `deleted`).
pub fn endpoint_mut<'r>(region: &'r mut Region, id: &str) -> Result<&'r mut Endpoint, Ec2Error> {
    match region.endpoints.get_mut(id) {
        Some(ep) if ep.status == EndpointState::Deleting => Err(Ec2Error::incorrect_state(
            format!("The Client VPN endpoint {id} is being deleted."),
        )),
        Some(ep) if ep.status != EndpointState::Deleted => Ok(ep),
        _ => Err(Ec2Error::endpoint_not_found(id)),
    }
}

/// AWS's limit on changes in progress per endpoint: call right before a mutation starts a new
/// transition (not for replays or repeats of a change already under way).
pub fn check_concurrency(ep: &Endpoint, limits: &Limits) -> Result<(), Ec2Error> {
    if ep.operations_in_progress() >= limits.concurrent_operations_per_endpoint {
        return Err(Ec2Error::new(
            "ConcurrentMutationLimitExceeded",
            "Cannot initiate another change for this endpoint at this time. Please try again later.",
        ));
    }
    Ok(())
}

/// ClientToken idempotency: a repeated token with identical parameters returns the original
/// response without running `apply`; with different parameters it is
/// `IdempotentParameterMismatch`. Call after validation and [`Ctx::proceed`].
pub fn idempotent(
    ctx: &mut Ctx<'_>,
    region: &mut Region,
    p: &Params,
    apply: impl FnOnce(&mut Ctx<'_>, &mut Region) -> Result<String, Ec2Error>,
) -> Result<String, Ec2Error> {
    let token = p.get("ClientToken").filter(|t| !t.is_empty());
    let Some(token) = token else {
        return apply(ctx, region);
    };
    if token.len() > 64 || !token.is_ascii() {
        return Err(Ec2Error::invalid_value(
            "ClientToken",
            token,
            "The token must be at most 64 ASCII characters.",
        ));
    }
    let fingerprint = p.fingerprint(&["Action", "Version", "DryRun", "ClientToken"]);
    let key = (ctx.action.name(), token.to_owned());
    if let Some(record) = region.idempotency.get(&key) {
        return if record.fingerprint == fingerprint {
            Ok(record.response.clone())
        } else {
            Err(Ec2Error::new(
                "IdempotentParameterMismatch",
                format!(
                    "The client token {token} was already used in a request with different parameters."
                ),
            ))
        };
    }
    let response = apply(ctx, region)?;
    region.idempotency.insert(
        key,
        IdempotencyRecord {
            fingerprint,
            response: response.clone(),
        },
    );
    Ok(response)
}

/// One `Filter.N`: a name and values; values are OR-ed (with `*`/`?` wildcards), filters AND-ed.
#[derive(Debug, Clone)]
pub struct Filter {
    pub name: String,
    pub values: Vec<String>,
}

impl Filter {
    pub fn matches(&self, value: &str) -> bool {
        self.values.iter().any(|pattern| glob(pattern, value))
    }
}

/// Parses `Filter.N.Name` / `Filter.N.Value.M`, accepting only the action's documented names.
pub fn filters(p: &Params, allowed: &[&str]) -> Result<Vec<Filter>, Ec2Error> {
    p.structs("Filter")
        .into_iter()
        .map(|f| {
            let name = f
                .required("Name")
                .map_err(|_| Ec2Error::missing("Filter.N.Name"))?;
            if !allowed.contains(&name) {
                return Err(Ec2Error::invalid(format!("The filter '{name}' is invalid")));
            }
            let values = f.list("Value");
            if values.is_empty() {
                return Err(Ec2Error::invalid(format!(
                    "The filter '{name}' requires at least one value"
                )));
            }
            Ok(Filter {
                name: name.to_owned(),
                values,
            })
        })
        .collect()
}

/// `*` matches any run of characters, `?` exactly one.
fn glob(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// `MaxResults` / `NextToken` of a Describe call.
#[derive(Debug, Clone, Default)]
pub struct Page {
    max: Option<usize>,
    after: Option<String>,
}

impl Page {
    pub fn from_params(p: &Params) -> Result<Self, Ec2Error> {
        let max = match p.int("MaxResults")? {
            None => None,
            Some(n) if (5..=1000).contains(&n) => Some(n as usize),
            Some(n) => {
                return Err(Ec2Error::invalid_value(
                    "MaxResults",
                    &n.to_string(),
                    "The value must be between 5 and 1000.",
                ));
            }
        };
        let after = match p.get("NextToken").filter(|t| !t.is_empty()) {
            None => None,
            Some(token) => Some(decode_token(token).ok_or_else(|| {
                Ec2Error::new(
                    "InvalidPaginationToken",
                    format!("The pagination token {token} is invalid."),
                )
            })?),
        };
        Ok(Self { max, after })
    }

    /// Cuts one page out of `items`, which must be sorted by key. Returns the page and the
    /// token for the next one (only when more items follow).
    pub fn apply<T>(&self, items: Vec<(String, T)>) -> (Vec<T>, Option<String>) {
        let mut rest = items
            .into_iter()
            .skip_while(|(key, _)| self.after.as_ref().is_some_and(|after| key <= after))
            .peekable();
        let mut page = Vec::new();
        let mut last_key = None;
        while let Some((key, item)) = rest.next_if(|_| self.max.is_none_or(|m| page.len() < m)) {
            page.push(item);
            last_key = Some(key);
        }
        let next = match (rest.peek(), last_key) {
            (Some(_), Some(key)) => Some(encode_token(&key)),
            _ => None,
        };
        (page, next)
    }
}

/// Sort key of a sub-resource created `seq`-th (zero-padded so text order is numeric order).
pub fn seq_key(seq: u64) -> String {
    format!("{seq:020}")
}

fn encode_token(key: &str) -> String {
    let mut out = String::from("v1.");
    for b in key.bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn decode_token(token: &str) -> Option<String> {
    let hex = token.strip_prefix("v1.")?;
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

/// `<return>true</return>`, the body of actions that only acknowledge.
pub fn return_true() -> String {
    "<return>true</return>".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_round_trip() {
        assert_eq!(Action::ALL.len(), 17);
        for action in Action::ALL {
            assert_eq!(Action::from_name(action.name()), Some(*action));
        }
        assert_eq!(Action::from_name("RunInstances"), None);
    }

    #[test]
    fn glob_patterns() {
        for (pattern, value, ok) in [
            ("udp", "udp", true),
            ("u*", "udp", true),
            ("*p", "udp", true),
            ("u?p", "udp", true),
            ("u?", "udp", false),
            ("*", "", true),
            ("10.*.0.0/16", "10.1.0.0/16", true),
            ("tcp", "udp", false),
        ] {
            assert_eq!(glob(pattern, value), ok, "{pattern} vs {value}");
        }
    }

    #[test]
    fn pagination_walks_every_item_once() {
        let items: Vec<(String, u32)> = (0..12).map(|i| (seq_key(i), i as u32)).collect();
        let mut page = Page {
            max: Some(5),
            after: None,
        };
        let mut seen = Vec::new();
        loop {
            let (items, next) = page.apply(items.clone());
            seen.extend(items);
            match next {
                Some(token) => page.after = Some(decode_token(&token).unwrap()),
                None => break,
            }
        }
        assert_eq!(seen, (0..12).collect::<Vec<_>>());
    }

    #[test]
    fn last_full_page_has_no_token() {
        let items: Vec<(String, u32)> = (0..5).map(|i| (seq_key(i), i as u32)).collect();
        let page = Page {
            max: Some(5),
            after: None,
        };
        let (got, next) = page.apply(items);
        assert_eq!(got.len(), 5);
        assert_eq!(next, None);
    }

    #[test]
    fn page_parameters_are_validated() {
        for (query, code) in [
            (&b"MaxResults=4"[..], Some("InvalidParameterValue")),
            (b"MaxResults=1001", Some("InvalidParameterValue")),
            (b"MaxResults=5", None),
            (b"NextToken=garbage", Some("InvalidPaginationToken")),
            (b"NextToken=v1.zz", Some("InvalidPaginationToken")),
        ] {
            let got = Page::from_params(&Params::parse(query)).err();
            assert_eq!(got.as_ref().map(Ec2Error::code), code);
        }
        assert_eq!(
            decode_token(&encode_token("cvpn-endpoint-1")).unwrap(),
            "cvpn-endpoint-1"
        );
    }
}
