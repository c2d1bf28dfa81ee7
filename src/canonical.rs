//! Canonical text of a JSON value, the input of every hash in linres (run ids, stream seeds).
//!
//! Object keys are sorted and no whitespace is written, so the text depends only on the value,
//! never on the order in which keys were written or on serde_json's map feature flags. Numbers are
//! printed by serde_json (shortest round-trip form for floats), so `1`, `1.0` and `1e0` in an f64
//! field all become `1.0` once the value has passed through the typed config.

use serde_json::Value;

/// The canonical text of `value`.
pub fn to_string(value: &Value) -> String {
    let mut out = Vec::new();
    write(value, &mut out);
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key).expect("writing to memory");
                out.push(b':');
                write(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out);
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar).expect("writing to memory"),
    }
}

/// The canonical text of the object `value` split around the value of its entry `key`: `(before,
/// after)` such that `before ‖ to_string(&value[key]) ‖ after == to_string(value)` whatever that
/// entry's value. `None` when `value` is not an object holding `key`. Lets many values that differ
/// only in that entry be hashed without writing the rest again (run ids over seeds).
pub fn split_around(value: &Value, key: &str) -> Option<(String, String)> {
    let map = value.as_object()?;
    map.get(key)?;
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let (mut before, mut after) = (vec![b'{'], Vec::new());
    let mut seen = false;
    for (i, (k, item)) in entries.into_iter().enumerate() {
        let out = if seen { &mut after } else { &mut before };
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, k).expect("writing to memory");
        out.push(b':');
        if k == key {
            seen = true;
        } else {
            write(item, out);
        }
    }
    after.push(b'}');
    let text = |b: Vec<u8>| String::from_utf8(b).expect("serde_json writes UTF-8");
    Some((text(before), text(after)))
}

/// Lower-case hex of a byte string.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_matter() {
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": {"y": [1, 2], "x": 2.5}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a": {"x": 2.5, "y": [1, 2]}, "b": 1}"#).unwrap();
        assert_eq!(to_string(&a), r#"{"a":{"x":2.5,"y":[1,2]},"b":1}"#);
        assert_eq!(to_string(&a), to_string(&b));
    }

    #[test]
    fn list_order_matters_and_strings_are_escaped() {
        assert_ne!(to_string(&json!([1, 2])), to_string(&json!([2, 1])));
        assert_eq!(to_string(&json!({"q\"": "a\nb"})), r#"{"q\"":"a\nb"}"#);
    }

    #[test]
    fn an_object_splits_around_one_entry_into_its_canonical_text() {
        let value = json!({"seed": 3, "b": {"z": 1, "a": [2.5]}, "zz": "x", "a": null});
        for key in ["seed", "a", "zz", "b"] {
            let (before, after) = split_around(&value, key).unwrap();
            for replacement in [json!(0), json!(18446744073709551615u64), json!({"q": [1]})] {
                let mut changed = value.clone();
                changed[key] = replacement.clone();
                assert_eq!(format!("{before}{}{after}", to_string(&replacement)), to_string(&changed), "{key}");
            }
        }
        assert_eq!(split_around(&json!({"a": 1}), "seed"), None);
        assert_eq!(split_around(&json!([1]), "seed"), None);
    }

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }
}
