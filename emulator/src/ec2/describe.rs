//! What the Describe actions share: `Filter.N` (documented names only, `*`/`?` wildcards) and
//! `MaxResults`/`NextToken` pagination with opaque, stable tokens.

use super::error::Ec2Error;
use super::query::Params;

/// One `Filter.N`: a name and values; values are OR-ed (with `*`/`?` wildcards), filters AND-ed.
#[derive(Debug, Clone)]
pub struct Filter {
    pub name: String,
    pub values: Vec<String>,
}

/// A filter name a Describe action documents, with the value of an item it matches (`None`
/// never matches).
pub type FilterField<T> = (&'static str, fn(&T) -> Option<&str>);

impl Filter {
    pub fn matches(&self, value: &str) -> bool {
        self.values.iter().any(|pattern| glob(pattern, value))
    }

    /// Whether `item`'s value for this filter (named in `fields`) matches.
    pub fn passes<T>(&self, item: &T, fields: &[FilterField<T>]) -> bool {
        fields
            .iter()
            .find(|(name, _)| *name == self.name)
            .and_then(|(_, value)| value(item))
            .is_some_and(|v| self.matches(v))
    }
}

/// Parses `Filter.N.Name` / `Filter.N.Value.M`, accepting only the names in `fields`.
pub fn filters<T>(p: &Params, fields: &[FilterField<T>]) -> Result<Vec<Filter>, Ec2Error> {
    p.structs("Filter")
        .into_iter()
        .map(|f| {
            let name = f
                .required("Name")
                .map_err(|_| Ec2Error::missing("Filter.N.Name"))?;
            if !fields.iter().any(|(allowed, _)| *allowed == name) {
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
        let after = match p.non_empty("NextToken") {
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

#[cfg(test)]
mod tests {
    use super::*;

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
