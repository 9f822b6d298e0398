//! RFC 8785 canonical JSON for the values the KBS tests hash (ASCII
//! strings, objects, arrays, integers): members sorted by name, no
//! whitespace. Written here, apart from the server's canonicalizer
//! (serde_json_canonicalizer), so the tests check the server against
//! something else.

use serde_json::Value;

/// The canonical text of `v`.
pub fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut members: Vec<(&String, &Value)> = m.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            let members: Vec<String> = members
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sorted_and_compact() {
        let v = serde_json::json!({"b": 1, "a": "test", "c": {"e": [2, 1], "d": "e"}});
        assert_eq!(
            super::canonical(&v),
            r#"{"a":"test","b":1,"c":{"d":"e","e":[2,1]}}"#
        );
    }
}
