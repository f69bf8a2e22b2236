//! WKT syntax: `KEYWORD[arg, ...]` (or round brackets) where an argument is
//! a quoted string (`""` escapes a quote), a number, a bare word or a node.

/// One node of a WKT tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// The keyword, upper-cased.
    pub keyword: String,
    pub args: Vec<Value>,
}

/// An argument of a node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Str(String),
    Num(f64),
    Word(String),
    Node(Node),
}

impl Node {
    /// The first string argument (the name, for most nodes).
    pub fn name(&self) -> Option<&str> {
        self.args.iter().find_map(|a| match a {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        })
    }

    /// The `i`-th numeric argument.
    pub fn number(&self, i: usize) -> Option<f64> {
        self.args
            .iter()
            .filter_map(|a| match a {
                Value::Num(v) => Some(*v),
                // WKT1 AUTHORITY codes are quoted.
                Value::Str(s) => s.trim().parse().ok(),
                _ => None,
            })
            .nth(i)
    }

    /// The direct children that are nodes.
    pub fn children(&self) -> impl Iterator<Item = &Node> {
        self.args.iter().filter_map(|a| match a {
            Value::Node(n) => Some(n),
            _ => None,
        })
    }

    /// The first direct child with one of these keywords.
    pub fn child(&self, keywords: &[&str]) -> Option<&Node> {
        self.children()
            .find(|n| keywords.contains(&n.keyword.as_str()))
    }

    /// The first node with one of these keywords, depth first, this one included.
    pub fn find(&self, keywords: &[&str]) -> Option<&Node> {
        if keywords.contains(&self.keyword.as_str()) {
            return Some(self);
        }
        self.children().find_map(|c| c.find(keywords))
    }

    /// The EPSG code of an `ID["EPSG",n]` or `AUTHORITY["EPSG","n"]` child.
    pub fn epsg(&self) -> Option<u32> {
        self.children()
            .filter(|c| c.keyword == "ID" || c.keyword == "AUTHORITY")
            .find(|c| c.name().is_some_and(|n| n.eq_ignore_ascii_case("EPSG")))
            .and_then(|c| c.number(0))
            .filter(|v| v.fract() == 0.0 && *v > 0.0 && *v < f64::from(u32::MAX))
            // An integral value in range, checked above.
            .map(|v| v as u32)
    }
}

/// Parse WKT text into its root node. The error says what was expected where.
pub(crate) fn parse(text: &str) -> Result<Node, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    p.skip_ws();
    let node = p.node(0)?;
    p.skip_ws();
    if p.i < p.s.len() {
        return Err(format!("unexpected text after the end at byte {}", p.i));
    }
    Ok(node)
}

/// The EPSG code of the root of a WKT text, if it parses and has one.
pub(crate) fn top_level_epsg(text: &str) -> Option<u32> {
    parse(text).ok().and_then(|n| n.epsg())
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn word(&mut self) -> String {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn node(&mut self, depth: usize) -> Result<Node, String> {
        if depth > 64 {
            return Err("nested more than 64 deep".into());
        }
        let keyword = self.word();
        if keyword.is_empty() {
            return Err(format!("expected a keyword at byte {}", self.i));
        }
        self.skip_ws();
        let close = match self.s.get(self.i) {
            Some(b'[') => b']',
            Some(b'(') => b')',
            _ => return Err(format!("expected `[` after `{keyword}` at byte {}", self.i)),
        };
        self.i += 1;
        let mut args = Vec::new();
        loop {
            self.skip_ws();
            match self.s.get(self.i) {
                None => return Err(format!("`{keyword}[` is not closed")),
                Some(c) if *c == close && args.is_empty() => {
                    self.i += 1;
                    break;
                }
                _ => {}
            }
            args.push(self.value(depth)?);
            self.skip_ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(c) if *c == close => {
                    self.i += 1;
                    break;
                }
                None => return Err(format!("`{keyword}[` is not closed")),
                _ => {
                    return Err(format!(
                        "expected `,` or the end of `{keyword}` at byte {}",
                        self.i
                    ))
                }
            }
        }
        Ok(Node {
            keyword: keyword.to_ascii_uppercase(),
            args,
        })
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        match self.s.get(self.i) {
            Some(b'"') => {
                self.i += 1;
                let mut out = Vec::new();
                loop {
                    match self.s.get(self.i) {
                        None => return Err("a quoted string is not closed".into()),
                        Some(b'"') if self.s.get(self.i + 1) == Some(&b'"') => {
                            out.push(b'"');
                            self.i += 2;
                        }
                        Some(b'"') => {
                            self.i += 1;
                            break;
                        }
                        Some(c) => {
                            out.push(*c);
                            self.i += 1;
                        }
                    }
                }
                Ok(Value::Str(String::from_utf8_lossy(&out).into_owned()))
            }
            Some(c) if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.') => {
                let start = self.i;
                while self.s.get(self.i).is_some_and(|c| {
                    c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')
                }) {
                    self.i += 1;
                }
                let t = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                t.parse()
                    .map(Value::Num)
                    .map_err(|_| format!("`{t}` at byte {start} is not a number"))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let save = self.i;
                let w = self.word();
                self.skip_ws();
                if matches!(self.s.get(self.i), Some(b'[' | b'(')) {
                    self.i = save;
                    self.node(depth + 1).map(Value::Node)
                } else {
                    Ok(Value::Word(w))
                }
            }
            _ => Err(format!("unexpected character at byte {}", self.i)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wkt1_text_parses_into_nodes_with_its_authority() {
        let n = parse(
            r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]"#,
        )
        .unwrap();
        assert_eq!(n.keyword, "GEOGCS");
        assert_eq!(n.name(), Some("WGS 84"));
        assert_eq!(n.epsg(), Some(4326));
        let sph = n.find(&["SPHEROID"]).unwrap();
        assert_eq!(sph.number(0), Some(6378137.0));
        assert_eq!(sph.number(1), Some(298.257223563));
    }

    #[test]
    fn quotes_inside_strings_and_bare_words_survive() {
        let n = parse(r#"AXIS["say ""hi""", east, ORDER[1]]"#).unwrap();
        assert_eq!(n.name(), Some("say \"hi\""));
        assert_eq!(n.args[1], Value::Word("east".into()));
    }

    #[test]
    fn an_unclosed_node_is_an_error_naming_it() {
        let e = parse(r#"PROJCS["x",GEOGCS["y""#).unwrap_err();
        assert!(e.contains("not closed"), "{e}");
    }
}
