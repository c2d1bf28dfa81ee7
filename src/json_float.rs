//! Floats in JSON that survive every value. JSON has no infinities or NaN (serde_json writes them
//! as `null` and cannot read that back into a float), yet theory quantities and curves can be
//! infinite (a rate line at a huge step, a PL ratio at zero excess). Fields marked
//! `#[serde(with = "crate::json_float")]` (or `json_float::option`) write finite numbers as JSON
//! numbers and the others as the strings `"Infinity"`, `"-Infinity"` and `"NaN"`, which Python's
//! `float()` and JavaScript's `Number()` read as the same values; both forms are read back.

use serde::{Deserialize, Deserializer, Serializer};

/// Writes `v` as a number, or as `"Infinity"`, `"-Infinity"`, `"NaN"`.
pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    match special_name(*v) {
        Some(name) => s.serialize_str(name),
        None => s.serialize_f64(*v),
    }
}

/// Reads a number or one of the three strings.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Float::deserialize(d).map(|f| f.0)
}

fn special_name(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("Infinity")
    } else if v == f64::NEG_INFINITY {
        Some("-Infinity")
    } else {
        None
    }
}

/// A float read from a JSON number or from one of the names of the non-finite values.
struct Float(f64);

impl<'de> Deserialize<'de> for Float {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Float, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Float;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(r#"a number, "Infinity", "-Infinity" or "NaN""#)
            }
            fn visit_f64<E>(self, v: f64) -> Result<Float, E> {
                Ok(Float(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Float, E> {
                Ok(Float(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Float, E> {
                Ok(Float(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Float, E> {
                match v {
                    "Infinity" => Ok(Float(f64::INFINITY)),
                    "-Infinity" => Ok(Float(f64::NEG_INFINITY)),
                    "NaN" => Ok(Float(f64::NAN)),
                    other => Err(E::invalid_value(serde::de::Unexpected::Str(other), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The same for `Option<f64>` (`None` is `null`).
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => super::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(Option::<super::Float>::deserialize(d)?.map(|f| f.0))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize)]
    struct T {
        #[serde(with = "super")]
        x: f64,
        #[serde(with = "super::option", default)]
        y: Option<f64>,
    }

    #[test]
    fn every_float_round_trips_through_json() {
        for v in [0.0, -1.5e-300, 3.0, f64::MAX, f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            for y in [None, Some(v)] {
                let text = serde_json::to_string(&T { x: v, y }).unwrap();
                assert!(!text.contains("null") || y.is_none(), "{text}");
                let back: T = serde_json::from_str(&text).unwrap();
                assert_eq!(back.x.to_bits(), v.to_bits(), "{text}");
                assert_eq!(back.y.map(f64::to_bits), y.map(f64::to_bits), "{text}");
            }
        }
        let t: T = serde_json::from_str(r#"{"x": "Infinity", "y": "NaN"}"#).unwrap();
        assert!(t.x.is_infinite() && t.y.unwrap().is_nan());
        assert!(serde_json::from_str::<T>(r#"{"x": "inf"}"#).is_err(), "only the three names are floats");
    }
}
