//! AddTagsToCertificate, RemoveTagsFromCertificate, ListTagsForCertificate.

use serde_json::{Map, Value, json};

use super::error::AcmError;
use super::input::Input;
use super::{Ctx, certificate_arn, find, find_mut};
use crate::state::{Region, tag_count_after, tag_removed};

const MAX_TAGS: usize = 50;

pub fn add(_: &mut Ctx<'_>, region: &mut Region, input: &Input) -> Result<String, AcmError> {
    let arn = certificate_arn(input)?;
    let tags = required_tags(input)?;
    let cert = find_mut(region, arn)?;
    check_tag_count(tag_count_after(&cert.tags, &tags))?;
    cert.tags.extend(tags);
    Ok("{}".to_owned())
}

/// A tag with `Value` is removed only when the value matches; without, whatever its value.
pub fn remove(_: &mut Ctx<'_>, region: &mut Region, input: &Input) -> Result<String, AcmError> {
    let arn = certificate_arn(input)?;
    let tags = required_tags(input)?;
    let cert = find_mut(region, arn)?;
    for (key, value) in tags {
        let current = cert
            .tags
            .get(&key)
            .map(|v| v.as_deref().unwrap_or_default());
        if tag_removed(current, value.as_deref()) {
            cert.tags.remove(&key);
        }
    }
    Ok("{}".to_owned())
}

pub fn list(_: &mut Ctx<'_>, region: &mut Region, input: &Input) -> Result<String, AcmError> {
    let arn = certificate_arn(input)?;
    let cert = find(region, arn)?;
    let tags: Vec<Value> = cert
        .tags
        .iter()
        .map(|(key, value)| {
            let mut tag = Map::new();
            tag.insert("Key".into(), json!(key));
            if let Some(value) = value {
                tag.insert("Value".into(), json!(value));
            }
            Value::Object(tag)
        })
        .collect();
    Ok(json!({ "Tags": tags }).to_string())
}

fn required_tags(input: &Input) -> Result<Vec<(String, Option<String>)>, AcmError> {
    match parse_tags(input, "Tags")? {
        Some(tags) => Ok(tags),
        None => Err(AcmError::missing("Tags")),
    }
}

/// One tag: key and optional value.
pub type Tag = (String, Option<String>);

/// The `Tags` member: 1–50 `{Key, Value?}`, key 1–128 and value 0–256 characters of
/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`, nothing starting with `aws:`.
pub fn parse_tags(input: &Input, member: &str) -> Result<Option<Vec<Tag>>, AcmError> {
    let Some(items) = input.structures(member)? else {
        return Ok(None);
    };
    if items.is_empty() {
        return Err(AcmError::validation(
            member,
            Some("[]"),
            "Member must have length greater than or equal to 1",
        ));
    }
    if items.len() > MAX_TAGS {
        return Err(too_many());
    }
    let mut tags = Vec::new();
    for item in &items {
        let key = item.required_string("Key")?;
        let value = item.string("Value")?;
        check_text("Key", key, 1, 128)?;
        if let Some(value) = value {
            check_text("Value", value, 0, 256)?;
        }
        if key.starts_with("aws:") || value.is_some_and(|v| v.starts_with("aws:")) {
            return Err(AcmError::new(
                "InvalidTagException",
                format!(
                    "The tag {key} is invalid: cannot specify a tag key or value that begins with aws:"
                ),
            ));
        }
        tags.push((key.to_owned(), value.map(str::to_owned)));
    }
    Ok(Some(tags))
}

fn check_text(member: &str, text: &str, min: usize, max: usize) -> Result<(), AcmError> {
    let len = text.chars().count();
    if len < min {
        return Err(AcmError::validation(
            &format!("tags.member.{member}"),
            Some(text),
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if len > max {
        return Err(AcmError::validation(
            &format!("tags.member.{member}"),
            Some(text),
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    let allowed = |c: char| {
        c.is_alphabetic() || c.is_numeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
    };
    if !text.chars().all(allowed) {
        return Err(AcmError::validation(
            &format!("tags.member.{member}"),
            Some(text),
            "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
        ));
    }
    Ok(())
}

pub fn check_tag_count(count: usize) -> Result<(), AcmError> {
    if count > MAX_TAGS {
        return Err(too_many());
    }
    Ok(())
}

fn too_many() -> AcmError {
    AcmError::new(
        "TooManyTagsException",
        format!("A certificate can have at most {MAX_TAGS} tags."),
    )
}
