//! What the things an endpoint owns and lists (target-network associations, authorization rules,
//! routes, client connections) share: ending through a transitional state, and the Describe
//! action that lists them with filters and pagination.

use std::time::{Duration, Instant};

use super::error::Ec2Error;
use super::query::Params;
use super::xml::Xml;
use super::{Ctx, Filter, FilterField, Page, check_concurrency, endpoint, filters, seq_key};
use crate::config::Timing;
use crate::state::{
    Association, AssociationState, Connection, ConnectionState, Endpoint, Region, Route,
    RouteState, Rule, RuleState,
};

/// Something an endpoint owns and lists through a Describe action.
pub trait Child: Lifecycle + 'static {
    /// The filters the Describe action documents.
    const FILTERS: &'static [FilterField<Self>];
}

/// Creation order and removal through a transitional state (implemented by `lifecycle!`).
pub trait Lifecycle {
    /// Creation order within the region (the listing order).
    fn seq(&self) -> u64;

    /// How long the transitional states last.
    fn delay(timing: &Timing) -> Duration;

    /// Already in the transitional state that ends with its removal (for a connection: with
    /// `terminated`).
    fn is_leaving(&self) -> bool;

    /// Enters that transitional state, which ends at `due`.
    fn start_leaving(&mut self, due: Instant);
}

/// [`Lifecycle`] of children with `seq`, `status` and `due` fields:
/// `Child => leaving status, delay`.
macro_rules! lifecycle {
    ($($child:ty => $leaving:expr, $delay:path);+ $(;)?) => {$(
        impl Lifecycle for $child {
            fn seq(&self) -> u64 {
                self.seq
            }

            fn delay(timing: &Timing) -> Duration {
                $delay(timing)
            }

            fn is_leaving(&self) -> bool {
                self.status == $leaving
            }

            fn start_leaving(&mut self, due: Instant) {
                self.status = $leaving;
                self.due = Some(due);
            }
        }
    )+};
}

lifecycle! {
    Association => AssociationState::Disassociating, Timing::association;
    Rule => RuleState::Revoking, Timing::rule;
    Route => RouteState::Deleting, Timing::route;
    Connection => ConnectionState::Terminating, Timing::terminate;
}

/// Once validation has passed ([`Ctx::proceed`]), starts removing `children(ep)[position]`,
/// unless it is already leaving (a repeat starts nothing new, so only a new transition counts
/// against the concurrency limit).
pub fn begin_removal<T: Child>(
    ctx: &mut Ctx<'_>,
    ep: &mut Endpoint,
    children: fn(&mut Endpoint) -> &mut Vec<T>,
    position: usize,
) -> Result<(), Ec2Error> {
    ctx.proceed()?;
    if children(ep)[position].is_leaving() {
        return Ok(());
    }
    check_concurrency(ep, &ctx.limits)?;
    let due = ctx.due_in(T::delay(&ctx.timing));
    children(ep)[position].start_leaving(due);
    Ok(())
}

/// `<status><code>…</code></status>`, the whole answer of the actions that start a transition.
pub fn status_only(code: &str) -> String {
    let mut x = Xml::new();
    x.status("status", code, None);
    x.into_string()
}

/// The parameter names of [`Listing`].
pub const LISTING_PARAMS: &[&str] = &[
    "ClientVpnEndpointId",
    "MaxResults",
    "NextToken",
    "Filter.#.Name",
    "Filter.#.Value.#",
];

/// The parameters every Describe of an endpoint's children takes: the endpoint, `Filter.N`
/// and `MaxResults`/`NextToken`.
pub struct Listing<'p> {
    pub endpoint_id: &'p str,
    filters: Vec<Filter>,
    page: Page,
}

impl<'p> Listing<'p> {
    /// Reads and validates the parameters, with the filters of `T`, and finds the endpoint;
    /// then [`Ctx::proceed`].
    pub fn read<'r, T: Child>(
        ctx: &Ctx<'_>,
        region: &'r Region,
        p: &'p Params,
    ) -> Result<(Self, &'r Endpoint), Ec2Error> {
        let endpoint_id = p.required("ClientVpnEndpointId")?;
        let filters = filters(p, T::FILTERS)?;
        let page = Page::from_params(p)?;
        let ep = endpoint(region, endpoint_id)?;
        ctx.proceed()?;
        let listing = Self {
            endpoint_id,
            filters,
            page,
        };
        Ok((listing, ep))
    }

    /// The answer: the requested page of the `children` that pass every filter, in creation
    /// order, as `<{list}>` items written by `item`, then `nextToken` when more follow.
    pub fn answer<'c, T: Child + 'c>(
        &self,
        children: impl IntoIterator<Item = &'c T>,
        list: &str,
        item: impl FnMut(&mut Xml, &T),
    ) -> String {
        let matching = children
            .into_iter()
            .filter(|c| self.filters.iter().all(|f| f.passes(*c, T::FILTERS)))
            .map(|c| (seq_key(c.seq()), c))
            .collect();
        let (page, next) = self.page.apply(matching);
        let mut x = Xml::new();
        x.list(list, page, item);
        x.opt_text("nextToken", next.as_deref());
        x.into_string()
    }
}
