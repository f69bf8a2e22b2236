//! Queryables: the JSON schema of the properties a filter can name, inferred
//! from the items (their JSON types; strings that are all RFC 3339 date-times
//! get `"format": "date-time"`), plus `id`, `collection`, `geometry` and
//! `datetime`.

use crate::datetime;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The JSON types seen for one property.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    string: bool,
    all_datetimes: bool,
    integer: bool,
    number: bool,
    boolean: bool,
    array: bool,
    object: bool,
}

impl Seen {
    fn add(&mut self, v: &Value) {
        match v {
            Value::Null => {}
            Value::Bool(_) => self.boolean = true,
            Value::Number(n) => {
                if n.is_i64() || n.is_u64() {
                    self.integer = true
                } else {
                    self.number = true
                }
            }
            Value::String(s) => {
                let dt = datetime::parse_rfc3339(s).is_some();
                self.all_datetimes = if self.string {
                    self.all_datetimes && dt
                } else {
                    dt
                };
                self.string = true;
            }
            Value::Array(_) => self.array = true,
            Value::Object(_) => self.object = true,
        }
    }

    fn merge(&mut self, o: &Seen) {
        self.all_datetimes = match (self.string, o.string) {
            (true, true) => self.all_datetimes && o.all_datetimes,
            (true, false) => self.all_datetimes,
            (false, _) => o.all_datetimes,
        };
        self.string |= o.string;
        self.integer |= o.integer;
        self.number |= o.number;
        self.boolean |= o.boolean;
        self.array |= o.array;
        self.object |= o.object;
    }

    fn schema(&self) -> Value {
        let mut types: Vec<&str> = Vec::new();
        if self.string {
            types.push("string");
        }
        if self.number {
            types.push("number");
        } else if self.integer {
            types.push("integer");
        }
        if self.boolean {
            types.push("boolean");
        }
        if self.array {
            types.push("array");
        }
        if self.object {
            types.push("object");
        }
        let mut m = Map::new();
        match types.as_slice() {
            [] => {}
            [one] => {
                m.insert("type".into(), json!(one));
            }
            many => {
                m.insert("type".into(), json!(many));
            }
        }
        if self.string && self.all_datetimes && types.len() == 1 {
            m.insert("format".into(), json!("date-time"));
        }
        Value::Object(m)
    }
}

/// Property name → types seen, for one collection or for all.
#[derive(Debug, Clone, Default)]
pub struct Inferred(BTreeMap<String, Seen>);

impl Inferred {
    /// Record the properties of one item.
    pub fn add_item(&mut self, item: &Value) {
        if let Some(Value::Object(p)) = item.get("properties") {
            self.add_properties(p);
        }
    }

    /// Record one item's `properties` object.
    pub fn add_properties(&mut self, p: &Map<String, Value>) {
        for (k, v) in p {
            match self.0.get_mut(k.as_str()) {
                Some(s) => s.add(v),
                None => {
                    let mut s = Seen::default();
                    s.add(v);
                    self.0.insert(k.clone(), s);
                }
            }
        }
    }

    /// Add what another set has seen.
    pub fn merge(&mut self, other: &Inferred) {
        for (k, s) in &other.0 {
            self.0.entry(k.clone()).or_default().merge(s);
        }
    }

    /// The queryables document, `$id` being its own URL.
    pub fn document(&self, id_url: &str, title: &str) -> Value {
        let mut props = Map::new();
        props.insert(
            "id".into(),
            json!({"title": "Item ID", "description": "Item identifier", "type": "string"}),
        );
        props.insert(
            "collection".into(),
            json!({"title": "Collection ID", "description": "Id of the collection the item belongs to", "type": "string"}),
        );
        props.insert(
            "geometry".into(),
            json!({"title": "Item geometry", "description": "Footprint of the item (GeoJSON, longitude/latitude)", "$ref": "https://geojson.org/schema/Geometry.json"}),
        );
        props.insert(
            "datetime".into(),
            json!({"title": "Acquisition time", "description": "datetime, or start_datetime for items with a range", "type": "string", "format": "date-time"}),
        );
        for (k, s) in &self.0 {
            if k == "datetime" {
                continue;
            }
            props.insert(k.clone(), s.schema());
        }
        json!({
            "$schema": "https://json-schema.org/draft/2019-09/schema",
            "$id": id_url,
            "type": "object",
            "title": title,
            "properties": props,
            "additionalProperties": true,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn types_are_inferred_from_the_values() {
        let mut q = Inferred::default();
        q.add_item(
            &json!({"properties": {"cc": 1, "p": "a", "t": "2020-01-01T00:00:00Z", "f": true}}),
        );
        q.add_item(&json!({"properties": {"cc": 1.5, "t": "2021-01-01T00:00:00Z"}}));
        let d = q.document("http://x/queryables", "Queryables");
        assert_eq!(d["$id"], "http://x/queryables");
        assert_eq!(d["properties"]["cc"], json!({"type": "number"}));
        assert_eq!(d["properties"]["p"], json!({"type": "string"}));
        assert_eq!(
            d["properties"]["t"],
            json!({"type": "string", "format": "date-time"})
        );
        assert_eq!(d["properties"]["f"], json!({"type": "boolean"}));
        assert_eq!(d["properties"]["datetime"]["format"], "date-time");
    }
}
