//! The error shape of API.md: `{"code": "...", "detail": "...", "fields": {"field": ["..."]}}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"code": "email_taken", "detail": "A user with this email already exists."})))]
pub struct ErrorBody {
    /// A stable snake_case identifier clients can match on.
    #[cfg_attr(feature = "openapi", schema(example = "email_taken"))]
    pub code: String,
    /// A sentence for people.
    pub detail: String,
    /// Problems per input field, when the request had some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = json!({"email": ["not an email address"]})))]
    pub fields: Option<BTreeMap<String, Vec<String>>>,
    /// On server errors (5xx): the request's id, also in the `X-Request-Id` header and
    /// in the server's log, to quote when reporting the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(example = "4f0c9a1e2b7d4c3a8e6f5d1c2b3a4e5f")
    )]
    pub request_id: Option<String>,
}

impl ErrorBody {
    /// A body with `code` and `detail` and no per-field problems.
    pub fn new(code: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            detail: detail.into(),
            fields: None,
            request_id: None,
        }
    }

    /// The same body with one more problem listed under `field`.
    pub fn with_field(mut self, field: impl Into<String>, problem: impl Into<String>) -> Self {
        self.fields
            .get_or_insert_with(BTreeMap::new)
            .entry(field.into())
            .or_default()
            .push(problem.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_error_lists_its_fields_only_when_it_has_some() {
        let plain = ErrorBody::new("email_taken", "A user with this email already exists.");
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            r#"{"code":"email_taken","detail":"A user with this email already exists."}"#
        );
        let invalid = ErrorBody::new("invalid_input", "Some fields are invalid.")
            .with_field("user_ids", "a")
            .with_field("user_ids", "b")
            .with_field("email", "not an email address");
        assert_eq!(
            serde_json::to_value(&invalid).unwrap(),
            json!({"code": "invalid_input", "detail": "Some fields are invalid.",
                "fields": {"email": ["not an email address"], "user_ids": ["a", "b"]}})
        );
        let read: ErrorBody = serde_json::from_value(json!({"code": "x", "detail": "y"})).unwrap();
        assert_eq!(read, ErrorBody::new("x", "y"));
    }
}
