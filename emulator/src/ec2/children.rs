//! What the three kinds of things an endpoint owns (target-network associations, authorization
//! rules, routes) share: removal that goes through a transitional state, and the Describe action
//! that lists them with filters and pagination.

use std::time::{Duration, Instant};

use super::error::Ec2Error;
use super::query::Params;
use super::xml::Xml;
use super::{Ctx, Filter, Page, check_concurrency, filters, seq_key};
use crate::state::Endpoint;

/// Something an endpoint owns and lists through a Describe action.
pub trait Child {
    /// The filter names the Describe action documents.
    const FILTERS: &'static [&'static str];

    /// Creation order within the region (the listing order).
    fn seq(&self) -> u64;

    /// Whether this child passes one `Filter.N` (a name from [`Child::FILTERS`]).
    fn matches(&self, filter: &Filter) -> bool;

    /// Already in the transitional state that ends with its removal.
    fn is_leaving(&self) -> bool;

    /// Enters the transitional state that ends with its removal at `due`.
    fn start_leaving(&mut self, due: Instant);
}

/// Starts removing `children(ep)[position]` after `delay`, unless it is already leaving (a
/// repeat starts nothing new, so only a new transition counts against the concurrency limit).
/// Call after [`Ctx::proceed`].
pub fn begin_removal<T: Child>(
    ctx: &mut Ctx<'_>,
    ep: &mut Endpoint,
    children: fn(&mut Endpoint) -> &mut Vec<T>,
    position: usize,
    delay: Duration,
) -> Result<(), Ec2Error> {
    if children(ep)[position].is_leaving() {
        return Ok(());
    }
    check_concurrency(ep, &ctx.limits)?;
    let due = ctx.due_in(delay);
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
    /// Reads and validates the parameters, with the filter names of `T`.
    pub fn parse<T: Child>(p: &'p Params) -> Result<Self, Ec2Error> {
        let endpoint_id = p.required("ClientVpnEndpointId")?;
        let filters = filters(p, T::FILTERS)?;
        let page = Page::from_params(p)?;
        Ok(Self {
            endpoint_id,
            filters,
            page,
        })
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
            .filter(|c| self.filters.iter().all(|f| c.matches(f)))
            .map(|c| (seq_key(c.seq()), c))
            .collect();
        let (page, next) = self.page.apply(matching);
        let mut x = Xml::new();
        x.list(list, page, item);
        x.opt_text("nextToken", next.as_deref());
        x.into_string()
    }
}
