//! CreateTags / DeleteTags on `cvpn-endpoint-…` resources.

use super::error::Ec2Error;
use super::query::Params;
use super::{Ctx, endpoint_mut, return_true};
use crate::state::{Region, tag_count_after, tag_removed};

pub const CREATE_PARAMS: &[&str] = &["ResourceId.#", "Tag.#.Key", "Tag.#.Value"];
pub const DELETE_PARAMS: &[&str] = &["ResourceId.#", "Tag.#.Key", "Tag.#.Value"];

const MAX_TAGS: usize = 50;

pub fn create(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let resources = resource_ids(p)?;
    let tags = parse_tags(p, true)?;
    if tags.is_empty() {
        return Err(Ec2Error::missing("Tag"));
    }
    for id in &resources {
        let ep = endpoint_mut(region, id)?;
        check_tag_count(tag_count_after(&ep.tags, &tags))?;
    }
    ctx.proceed()?;
    for id in &resources {
        let ep = endpoint_mut(region, id)?;
        for (key, value) in &tags {
            ep.tags
                .insert(key.clone(), value.clone().unwrap_or_default());
        }
    }
    Ok(return_true())
}

/// A tag without `Value` is deleted whatever its value; with `Value` (even empty) only if it
/// matches; no `Tag` at all deletes every tag.
pub fn delete(ctx: &mut Ctx<'_>, region: &mut Region, p: &Params) -> Result<String, Ec2Error> {
    let resources = resource_ids(p)?;
    let tags = parse_tags(p, false)?;
    for id in &resources {
        endpoint_mut(region, id)?;
    }
    ctx.proceed()?;
    for id in &resources {
        let ep = endpoint_mut(region, id)?;
        if tags.is_empty() {
            ep.tags.clear();
            continue;
        }
        for (key, value) in &tags {
            if tag_removed(ep.tags.get(key).map(String::as_str), value.as_deref()) {
                ep.tags.remove(key);
            }
        }
    }
    Ok(return_true())
}

fn resource_ids(p: &Params) -> Result<Vec<String>, Ec2Error> {
    let too_many = "At most 1000 resource IDs can be tagged in one request.";
    let ids = p.required_list("ResourceId", 1000, too_many)?;
    if let Some(bad) = ids.iter().find(|id| !id.starts_with("cvpn-endpoint-")) {
        return Err(Ec2Error::new(
            "InvalidID",
            format!(
                "The ID '{bad}' is not valid (the emulator only tags cvpn-endpoint-… resources)"
            ),
        ));
    }
    Ok(ids)
}

/// `Tag.N.Key` / `Tag.N.Value` pairs. Keys are validated as EC2 does; `aws:` is reserved.
pub fn parse_tags(
    p: &Params,
    values_required: bool,
) -> Result<Vec<(String, Option<String>)>, Ec2Error> {
    let mut tags = Vec::new();
    for (i, tag) in p.structs("Tag").iter().enumerate() {
        let key = tag
            .required("Key")
            .map_err(|_| Ec2Error::missing(&format!("Tag.{}.Key", i + 1)))?;
        if key.chars().count() > 127 {
            return Err(Ec2Error::invalid(format!(
                "Tag key exceeds the maximum length of 127 characters: {key}"
            )));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(Ec2Error::invalid(format!(
                "Tag keys starting with 'aws:' are reserved for internal use: {key}"
            )));
        }
        let value = tag.get("Value").map(str::to_owned);
        if value.as_ref().is_some_and(|v| v.chars().count() > 256) {
            return Err(Ec2Error::invalid(format!(
                "Tag value exceeds the maximum length of 256 characters (key {key})"
            )));
        }
        let value = match (value, values_required) {
            (None, true) => Some(String::new()),
            (value, _) => value,
        };
        tags.push((key.to_owned(), value));
    }
    Ok(tags)
}

pub fn check_tag_count(count: usize) -> Result<(), Ec2Error> {
    if count > MAX_TAGS {
        return Err(Ec2Error::new(
            "TagLimitExceeded",
            format!(
                "A resource can have at most {MAX_TAGS} tags, this request would make {count}."
            ),
        ));
    }
    Ok(())
}
