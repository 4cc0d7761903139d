//! YAML for the tests, on serde-saphyr (the crate `clientvpn-operator crd` writes with), as JSON
//! values. Include it with `#[path = "../support/yaml.rs"] mod yaml;`.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Every non-empty document of a multi-document YAML stream, as JSON values.
pub fn documents(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .expect("valid YAML")
        .into_iter()
        .filter(|doc| !doc.is_null())
        .collect()
}

/// One YAML document; `what` names it in the panic message.
pub fn parse<T: DeserializeOwned>(text: &str, what: &str) -> T {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{what} is not valid YAML: {e}"))
}

/// `value` as a YAML document.
pub fn to_string(value: &Value) -> String {
    serde_saphyr::to_string(value).expect("JSON values always serialize")
}
