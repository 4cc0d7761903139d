//! EC2 Query parameters: form decoding and the flattened `Prefix.N.Member` lists.

use std::collections::BTreeMap;

use super::error::Ec2Error;

/// Decoded request parameters (`Action`, `Version` and the action's members).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    map: BTreeMap<String, String>,
}

impl Params {
    /// Decodes a form body or query string; both `%20` and `+` mean a space.
    pub fn parse(raw: &[u8]) -> Self {
        Self::from_pairs(form_urlencoded::parse(raw).map(|(k, v)| (k.into_owned(), v.into_owned())))
    }

    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            map: pairs.into_iter().collect(),
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// A member that is set and not empty.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// A required member; an empty value counts as missing.
    pub fn required(&self, key: &str) -> Result<&str, Ec2Error> {
        self.non_empty(key).ok_or_else(|| Ec2Error::missing(key))
    }

    /// A boolean member: `true`/`false` (any case).
    pub fn bool(&self, key: &str) -> Result<Option<bool>, Ec2Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(Ec2Error::invalid_value(
                key,
                v,
                "Expected a boolean (true or false).",
            )),
        }
    }

    /// An integer member.
    pub fn int(&self, key: &str) -> Result<Option<i64>, Ec2Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| Ec2Error::invalid_value(key, v, "Expected an integer.")),
        }
    }

    /// Members of a flattened scalar list `prefix.1`, `prefix.2`, … in index order.
    /// The required list `prefix.N` of at most `max` items: `MissingParameter` when empty,
    /// `InvalidParameterValue` with `too_many` when longer.
    pub fn required_list(
        &self,
        prefix: &str,
        max: usize,
        too_many: &str,
    ) -> Result<Vec<String>, Ec2Error> {
        let items = self.list(prefix);
        if items.is_empty() {
            return Err(Ec2Error::missing(prefix));
        }
        if items.len() > max {
            return Err(Ec2Error::invalid(too_many));
        }
        Ok(items)
    }

    pub fn list(&self, prefix: &str) -> Vec<String> {
        let mut items: Vec<(u64, &String)> = self
            .under(prefix)
            .filter_map(|(rest, v)| rest.parse::<u64>().ok().map(|n| (n, v)))
            .collect();
        items.sort_by_key(|(n, _)| *n);
        items.into_iter().map(|(_, v)| v.clone()).collect()
    }

    /// Members of a flattened list of structures `prefix.N.member`, one `Params` per index.
    pub fn structs(&self, prefix: &str) -> Vec<Params> {
        let mut groups: BTreeMap<u64, Params> = BTreeMap::new();
        for (rest, v) in self.under(prefix) {
            let Some((index, member)) = rest.split_once('.') else {
                continue;
            };
            if let Ok(n) = index.parse::<u64>() {
                groups
                    .entry(n)
                    .or_default()
                    .map
                    .insert(member.to_owned(), v.clone());
            }
        }
        groups.into_values().collect()
    }

    /// The members of a nested structure `prefix.member` (no index).
    pub fn sub(&self, prefix: &str) -> Params {
        Params {
            map: self
                .under(prefix)
                .map(|(rest, v)| (rest.to_owned(), v.clone()))
                .collect(),
        }
    }

    /// The structure under `prefix.` parsed by `parse`, or `None` when the request sets none of
    /// its members.
    pub fn optional_struct<T>(
        &self,
        prefix: &str,
        parse: impl FnOnce(&Params) -> Result<T, Ec2Error>,
    ) -> Result<Option<T>, Ec2Error> {
        let members = self.sub(prefix);
        if members.is_empty() {
            return Ok(None);
        }
        parse(&members).map(Some)
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// True if any member starts with `prefix.` or equals `prefix`.
    pub fn has(&self, prefix: &str) -> bool {
        self.map.contains_key(prefix) || self.under(prefix).next().is_some()
    }

    /// True if every member is one of `names`.
    pub fn only(&self, names: &[&str]) -> bool {
        self.map.keys().all(|k| names.contains(&k.as_str()))
    }

    /// Canonical text of all members except `exclude`, for idempotency comparisons.
    pub fn fingerprint(&self, exclude: &[&str]) -> String {
        let mut out = String::new();
        for (k, v) in &self.map {
            if exclude.contains(&k.as_str()) {
                continue;
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
            out.push('\n');
        }
        out
    }

    /// Rejects members the action does not define (`UnknownParameter`, as EC2 does).
    /// Patterns write list indexes as `#`, e.g. `Filter.#.Value.#`.
    pub fn check_allowed(&self, allowed: &[&str]) -> Result<(), Ec2Error> {
        for key in self.map.keys() {
            if matches!(key.as_str(), "Action" | "Version" | "DryRun") {
                continue;
            }
            let shape = key_shape(key);
            if !allowed.contains(&shape.as_str()) {
                return Err(Ec2Error::new(
                    "UnknownParameter",
                    format!("The parameter {key} is not recognized"),
                ));
            }
        }
        Ok(())
    }

    fn under<'a>(&'a self, prefix: &str) -> impl Iterator<Item = (&'a str, &'a String)> + 'a {
        let start = format!("{prefix}.");
        let len = start.len();
        self.map
            .range(start.clone()..)
            .take_while(move |(k, _)| k.starts_with(&start))
            .map(move |(k, v)| (&k[len..], v))
    }
}

/// `Filter.12.Value.3` → `Filter.#.Value.#`.
fn key_shape(key: &str) -> String {
    key.split('.')
        .map(|seg| {
            if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                "#"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// `first` followed by `second`, as one array: how an action's parameter list is put together
/// from lists it shares with other actions. `N` must be the sum of both lengths.
pub const fn concat<const N: usize>(
    first: &[&'static str],
    second: &[&'static str],
) -> [&'static str; N] {
    assert!(
        first.len() + second.len() == N,
        "N must be the total length"
    );
    let mut all = [""; N];
    let mut i = 0;
    while i < first.len() {
        all[i] = first[i];
        i += 1;
    }
    let mut j = 0;
    while j < second.len() {
        all[i + j] = second[j];
        j += 1;
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_both_space_encodings_and_slashes() {
        let p = Params::parse(b"Description=a%20b+c&ClientCidrBlock=10.0.0.0%2F22");
        assert_eq!(p.get("Description"), Some("a b c"));
        assert_eq!(p.get("ClientCidrBlock"), Some("10.0.0.0/22"));
    }

    #[test]
    fn lists_are_ordered_numerically() {
        let p = Params::parse(b"DnsServers.10=c&DnsServers.2=b&DnsServers.1=a&DnsServersX=no");
        assert_eq!(p.list("DnsServers"), vec!["a", "b", "c"]);
    }

    #[test]
    fn structs_group_by_index() {
        let p = Params::parse(
            b"Filter.2.Name=origin&Filter.2.Value.1=associate&Filter.1.Name=destination-cidr&Filter.1.Value.1=x&Filter.1.Value.2=y",
        );
        let filters = p.structs("Filter");
        assert_eq!(filters.len(), 2);
        assert_eq!(filters[0].get("Name"), Some("destination-cidr"));
        assert_eq!(filters[0].list("Value"), vec!["x", "y"]);
        assert_eq!(filters[1].get("Name"), Some("origin"));
    }

    #[test]
    fn nested_structure_view() {
        let p = Params::parse(b"Authentication.1.MutualAuthentication.ClientRootCertificateChainArn=arn&Authentication.1.Type=certificate-authentication");
        let auth = &p.structs("Authentication")[0];
        assert_eq!(
            auth.sub("MutualAuthentication")
                .get("ClientRootCertificateChainArn"),
            Some("arn")
        );
    }

    #[test]
    fn booleans_and_integers() {
        let p = Params::parse(b"A=true&B=False&C=yes&D=443&E=x");
        assert_eq!(p.bool("A").unwrap(), Some(true));
        assert_eq!(p.bool("B").unwrap(), Some(false));
        assert_eq!(p.bool("Z").unwrap(), None);
        assert_eq!(p.bool("C").unwrap_err().code(), "InvalidParameterValue");
        assert_eq!(p.int("D").unwrap(), Some(443));
        assert_eq!(p.int("E").unwrap_err().code(), "InvalidParameterValue");
    }

    #[test]
    fn unknown_members_are_rejected() {
        let p = Params::parse(b"Action=X&Version=1&DryRun=true&Filter.1.Name=a&Filter.1.Value.1=b");
        assert!(
            p.check_allowed(&["Filter.#.Name", "Filter.#.Value.#"])
                .is_ok()
        );
        let err = p.check_allowed(&["Filter.#.Name"]).unwrap_err();
        assert_eq!(err.code(), "UnknownParameter");
        assert!(err.message().contains("Filter.1.Value.1"));
    }

    #[test]
    fn required_treats_empty_as_missing() {
        let p = Params::parse(b"A=&B=x");
        assert_eq!(p.required("A").unwrap_err().code(), "MissingParameter");
        assert_eq!(p.required("B").unwrap(), "x");
    }
}
