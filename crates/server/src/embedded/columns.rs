//! Item properties stored by column: one array per property name, indexed
//! like the items. A filter or a sort then reads one compact array in order
//! instead of one hash map per item scattered over the heap (a cache miss or
//! more per item). Properties present in few items are kept sparse.

use crate::cql::PropRef;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// One property value.
#[derive(Debug, Clone)]
enum Cell {
    Missing,
    Null,
    Num(f64),
    Bool(bool),
    Str(Box<str>),
    Json(Box<Value>),
}

impl Cell {
    fn from_value(v: Value) -> Cell {
        match v {
            Value::Null => Cell::Null,
            Value::Bool(b) => Cell::Bool(b),
            Value::Number(n) => match n.as_f64() {
                Some(x) => Cell::Num(x),
                None => Cell::Json(Box::new(Value::Number(n))),
            },
            Value::String(s) => Cell::Str(s.into_boxed_str()),
            other => Cell::Json(Box::new(other)),
        }
    }

    fn get(&self) -> Option<PropRef<'_>> {
        Some(match self {
            Cell::Missing => return None,
            Cell::Null => PropRef::Null,
            Cell::Num(x) => PropRef::Num(*x),
            Cell::Bool(b) => PropRef::Bool(*b),
            Cell::Str(s) => PropRef::Str(s),
            Cell::Json(v) => PropRef::Json(v),
        })
    }
}

#[derive(Debug)]
enum Column {
    Dense(Vec<Cell>),
    Sparse(HashMap<u32, Cell>),
}

/// The properties of every item, by name.
#[derive(Debug, Default)]
pub struct Columns {
    index: HashMap<String, usize>,
    columns: Vec<Column>,
}

/// A column is dense when at least this share of the items have the property.
const DENSE_FROM: f64 = 0.25;

impl Columns {
    /// Store the `properties` of items `0..n`, in order.
    pub fn build(props: Vec<Map<String, Value>>) -> Columns {
        let n = props.len();
        let mut counts: HashMap<String, usize> = HashMap::new();
        for p in &props {
            for k in p.keys() {
                match counts.get_mut(k.as_str()) {
                    Some(c) => *c += 1,
                    None => {
                        counts.insert(k.clone(), 1);
                    }
                }
            }
        }
        let mut index = HashMap::with_capacity(counts.len());
        let mut columns = Vec::with_capacity(counts.len());
        let mut names: Vec<(String, usize)> = counts.into_iter().collect();
        names.sort();
        for (name, count) in names {
            index.insert(name, columns.len());
            columns.push(if count as f64 >= DENSE_FROM * n as f64 {
                Column::Dense(vec![Cell::Missing; n])
            } else {
                Column::Sparse(HashMap::with_capacity(count))
            });
        }
        for (i, p) in props.into_iter().enumerate() {
            for (k, v) in p {
                let Some(&c) = index.get(k.as_str()) else {
                    continue;
                };
                let cell = Cell::from_value(v);
                match &mut columns[c] {
                    Column::Dense(cells) => cells[i] = cell,
                    Column::Sparse(cells) => {
                        cells.insert(i as u32, cell);
                    }
                }
            }
        }
        Columns { index, columns }
    }

    /// Property `name` of item `i`.
    pub fn get(&self, name: &str, i: usize) -> Option<PropRef<'_>> {
        let &c = self.index.get(name)?;
        match &self.columns[c] {
            Column::Dense(cells) => cells.get(i)?.get(),
            Column::Sparse(cells) => cells.get(&(i as u32))?.get(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn dense_and_sparse_columns_give_back_every_value() {
        let mut props: Vec<Map<String, Value>> = (0..10)
            .map(|i| {
                json!({"n": i, "s": format!("x{i}")})
                    .as_object()
                    .unwrap()
                    .clone()
            })
            .collect();
        props[3].insert("rare".into(), json!([1, 2]));
        props[4].insert("nul".into(), Value::Null);
        let c = Columns::build(props);
        assert!(matches!(c.get("n", 7), Some(PropRef::Num(x)) if x == 7.0));
        assert!(matches!(c.get("s", 2), Some(PropRef::Str("x2"))));
        assert!(matches!(c.get("rare", 3), Some(PropRef::Json(v)) if v == &json!([1, 2])));
        assert!(c.get("rare", 4).is_none());
        assert!(matches!(c.get("nul", 4), Some(PropRef::Null)));
        assert!(c.get("absent", 0).is_none());
    }
}
