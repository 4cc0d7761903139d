//! A decoded AWS JSON request body: typed access to its members. Members of the wrong JSON type
//! are `SerializationException`, as the service framework answers; unknown members are ignored.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::error::AcmError;

#[derive(Debug, Clone, Default)]
pub struct Input(Map<String, Value>);

impl Input {
    /// Parses the body; an empty body is `{}`.
    pub fn parse(body: &[u8]) -> Result<Self, AcmError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        match serde_json::from_slice(body) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(AcmError::serialization(
                "Start of structure or map expected at the top level of the request body",
            )),
            Err(e) => Err(AcmError::serialization(format!(
                "The request body is not valid JSON: {e}"
            ))),
        }
    }

    pub fn from_map(map: Map<String, Value>) -> Self {
        Self(map)
    }

    pub fn value(&self, member: &str) -> Option<&Value> {
        self.0.get(member).filter(|v| !v.is_null())
    }

    pub fn string(&self, member: &str) -> Result<Option<&str>, AcmError> {
        match self.value(member) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(wrong_type(member, "a string")),
        }
    }

    pub fn required_string(&self, member: &str) -> Result<&str, AcmError> {
        self.string(member)?
            .ok_or_else(|| AcmError::missing(member))
    }

    pub fn int(&self, member: &str) -> Result<Option<i64>, AcmError> {
        match self.value(member) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| wrong_type(member, "an integer")),
            Some(_) => Err(wrong_type(member, "an integer")),
        }
    }

    /// A blob member: base64 text in JSON, decoded to its bytes.
    pub fn blob(&self, member: &str) -> Result<Option<Vec<u8>>, AcmError> {
        let Some(text) = self.string(member)? else {
            return Ok(None);
        };
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(Some)
            .map_err(|_| {
                AcmError::serialization(format!("Value for member {member} is not valid base64"))
            })
    }

    /// A list of strings.
    pub fn strings(&self, member: &str) -> Result<Option<Vec<String>>, AcmError> {
        match self.value(member) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| wrong_type(member, "a list of strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(wrong_type(member, "a list")),
        }
    }

    /// A nested structure.
    pub fn structure(&self, member: &str) -> Result<Option<Input>, AcmError> {
        match self.value(member) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Self(map.clone()))),
            Some(_) => Err(wrong_type(member, "a structure")),
        }
    }

    /// A list of structures.
    pub fn structures(&self, member: &str) -> Result<Option<Vec<Input>>, AcmError> {
        match self.value(member) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Object(map) => Ok(Self(map.clone())),
                    _ => Err(wrong_type(member, "a list of structures")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(wrong_type(member, "a list")),
        }
    }
}

fn wrong_type(member: &str, expected: &str) -> AcmError {
    AcmError::serialization(format!("Value for member {member} must be {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_by_type() {
        let input = Input::parse(br#"{"A":"x","B":5,"C":"aGk=","D":["p"],"E":{"F":"y"},"N":null}"#)
            .unwrap();
        assert_eq!(input.string("A").unwrap(), Some("x"));
        assert_eq!(input.int("B").unwrap(), Some(5));
        assert_eq!(input.blob("C").unwrap(), Some(b"hi".to_vec()));
        assert_eq!(input.strings("D").unwrap(), Some(vec!["p".to_owned()]));
        assert_eq!(
            input.structure("E").unwrap().unwrap().string("F").unwrap(),
            Some("y")
        );
        assert_eq!(input.string("N").unwrap(), None);
        assert_eq!(
            input.string("B").unwrap_err().code(),
            "SerializationException"
        );
        assert_eq!(
            input.required_string("Z").unwrap_err().code(),
            "ValidationException"
        );
        assert_eq!(
            Input::parse(b"[]").unwrap_err().code(),
            "SerializationException"
        );
        assert!(Input::parse(b"").is_ok());
    }
}
