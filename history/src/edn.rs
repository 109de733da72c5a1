//! A small EDN reader, enough for Jepsen and Knossos histories (`history.edn`) and the Porcupine
//! logs: nil, booleans, integers, floats, strings, characters, keywords, symbols, vectors, lists,
//! maps, sets, tagged literals (`#inst "…"`), `#_` discards, `;` comments and commas as white
//! space. The maintained EDN crates either pull in much more than this or do not report lines;
//! errors here name the line and column.

use std::fmt;

/// One EDN value.
#[derive(Clone, Debug, PartialEq)]
pub enum Edn {
    /// `nil`
    Nil,
    /// `true` / `false`
    Bool(bool),
    /// An integer (`N` suffix accepted when it fits in an i64).
    Int(i64),
    /// A float (`M` suffix accepted).
    Float(f64),
    /// A string.
    Str(String),
    /// A character such as `\a` or `\newline`.
    Char(char),
    /// A keyword, without its leading colon.
    Keyword(String),
    /// A symbol.
    Symbol(String),
    /// `[…]`
    Vector(Vec<Edn>),
    /// `(…)`
    List(Vec<Edn>),
    /// `#{…}`
    Set(Vec<Edn>),
    /// `{…}`, in file order.
    Map(Vec<(Edn, Edn)>),
    /// `#tag value`
    Tagged(String, Box<Edn>),
}

impl Edn {
    /// Looks a keyword up in a map.
    pub fn get(&self, keyword: &str) -> Option<&Edn> {
        match self {
            Edn::Map(entries) => entries.iter().find(|(k, _)| matches!(k, Edn::Keyword(name) if name == keyword)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The JSON form used in our history: keywords and symbols become strings, sets and lists
    /// become arrays, map keys become strings.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Edn::Nil => Value::Null,
            Edn::Bool(b) => Value::Bool(*b),
            Edn::Int(i) => Value::from(*i),
            Edn::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
            Edn::Str(s) | Edn::Keyword(s) | Edn::Symbol(s) => Value::String(s.clone()),
            Edn::Char(c) => Value::String(c.to_string()),
            Edn::Vector(items) | Edn::List(items) | Edn::Set(items) => Value::Array(items.iter().map(Edn::to_json).collect()),
            Edn::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let key = match k {
                            Edn::Str(s) | Edn::Keyword(s) | Edn::Symbol(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (key, v.to_json())
                    })
                    .collect(),
            ),
            Edn::Tagged(_, inner) => inner.to_json(),
        }
    }
}

impl fmt::Display for Edn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn seq(f: &mut fmt::Formatter<'_>, open: &str, items: &[Edn], close: &str) -> fmt::Result {
            f.write_str(open)?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{item}")?;
            }
            f.write_str(close)
        }
        match self {
            Edn::Nil => f.write_str("nil"),
            Edn::Bool(b) => write!(f, "{b}"),
            Edn::Int(i) => write!(f, "{i}"),
            Edn::Float(x) => write!(f, "{x:?}"),
            Edn::Str(s) => write!(f, "{s:?}"),
            Edn::Char(c) => write!(f, "\\{c}"),
            Edn::Keyword(k) => write!(f, ":{k}"),
            Edn::Symbol(s) => f.write_str(s),
            Edn::Vector(items) => seq(f, "[", items, "]"),
            Edn::List(items) => seq(f, "(", items, ")"),
            Edn::Set(items) => seq(f, "#{", items, "}"),
            Edn::Map(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} {v}")?;
                }
                f.write_str("}")
            }
            Edn::Tagged(tag, v) => write!(f, "#{tag} {v}"),
        }
    }
}

/// A syntax error, with the 1-based line and column where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct EdnError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub column: u32,
    /// What was wrong.
    pub message: String,
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 256;

/// Reads EDN text as a stream of top-level values.
pub struct EdnReader<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: u32,
    column: u32,
    /// Set by [`EdnReader::enter_sequence`]: the bracket that ends the sequence being read.
    closing: Option<char>,
}

impl<'a> EdnReader<'a> {
    /// A reader over `text`.
    pub fn new(text: &'a str) -> Self {
        EdnReader { chars: text.chars().peekable(), line: 1, column: 1, closing: None }
    }

    /// If the next value is a vector or a list, steps inside it: `next_value` then yields its
    /// elements, each with its own line, and `None` at its end. Returns whether it did.
    pub fn enter_sequence(&mut self) -> bool {
        self.skip_space();
        let closing = match self.chars.peek() {
            Some('[') => ']',
            Some('(') => ')',
            _ => return false,
        };
        self.bump();
        self.closing = Some(closing);
        true
    }

    /// The next top-level value and the line it starts on, or `None` at the end.
    pub fn next_value(&mut self) -> Result<Option<(u32, Edn)>, EdnError> {
        self.skip_space();
        if let Some(closing) = self.closing {
            match self.chars.peek() {
                Some(&c) if c == closing => {
                    self.bump();
                    self.closing = None;
                    self.skip_space();
                    if let Some(&c) = self.chars.peek() {
                        return Err(self.error(format!("unexpected `{c}` after the history's closing `{closing}`")));
                    }
                    return Ok(None);
                }
                None => return Err(self.error(format!("unexpected end of input, expected `{closing}`"))),
                _ => {}
            }
        } else if self.chars.peek().is_none() {
            return Ok(None);
        }
        let line = self.line;
        let value = self.value(0)?;
        Ok(Some((line, value)))
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn error(&self, message: impl Into<String>) -> EdnError {
        EdnError { line: self.line, column: self.column, message: message.into() }
    }

    fn skip_space(&mut self) {
        while let Some(&c) = self.chars.peek() {
            if c.is_whitespace() || c == ',' {
                self.bump();
            } else if c == ';' {
                while let Some(c) = self.bump() {
                    if c == '\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Edn, EdnError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.skip_space();
        let Some(&c) = self.chars.peek() else {
            return Err(self.error("unexpected end of input, expected a value"));
        };
        match c {
            '[' => {
                self.bump();
                Ok(Edn::Vector(self.seq(']', depth)?))
            }
            '(' => {
                self.bump();
                Ok(Edn::List(self.seq(')', depth)?))
            }
            '{' => {
                self.bump();
                self.map(depth)
            }
            '"' => {
                self.bump();
                self.string()
            }
            '\\' => {
                self.bump();
                self.character()
            }
            '#' => {
                self.bump();
                match self.chars.peek() {
                    Some('{') => {
                        self.bump();
                        Ok(Edn::Set(self.seq('}', depth)?))
                    }
                    Some('_') => {
                        self.bump();
                        self.value(depth + 1)?;
                        self.value(depth + 1)
                    }
                    _ => {
                        let tag = self.token();
                        if tag.is_empty() {
                            return Err(self.error("expected a tag, a set or a discard after `#`"));
                        }
                        let inner = self.value(depth + 1)?;
                        Ok(Edn::Tagged(tag, Box::new(inner)))
                    }
                }
            }
            ')' | ']' | '}' => Err(self.error(format!("unexpected `{c}`"))),
            ':' => {
                self.bump();
                let name = self.token();
                if name.is_empty() {
                    return Err(self.error("empty keyword"));
                }
                Ok(Edn::Keyword(name))
            }
            _ => {
                let tok = self.token();
                if tok.is_empty() {
                    return Err(self.error(format!("unexpected character `{c}`")));
                }
                self.atom(tok)
            }
        }
    }

    fn token(&mut self) -> String {
        let mut tok = String::new();
        while let Some(&c) = self.chars.peek() {
            if c.is_whitespace() || matches!(c, ',' | '(' | ')' | '[' | ']' | '{' | '}' | '"' | ';') {
                break;
            }
            tok.push(c);
            self.bump();
        }
        tok
    }

    fn atom(&self, tok: String) -> Result<Edn, EdnError> {
        match tok.as_str() {
            "nil" => return Ok(Edn::Nil),
            "true" => return Ok(Edn::Bool(true)),
            "false" => return Ok(Edn::Bool(false)),
            _ => {}
        }
        let first = tok.chars().next().unwrap_or(' ');
        let second = tok.chars().nth(1);
        let numeric = first.is_ascii_digit() || (matches!(first, '-' | '+') && second.is_some_and(|c| c.is_ascii_digit()));
        if !numeric {
            return Ok(Edn::Symbol(tok));
        }
        let digits = tok.strip_suffix('N').unwrap_or(&tok);
        if let Ok(i) = digits.parse::<i64>() {
            return Ok(Edn::Int(i));
        }
        let float = tok.strip_suffix('M').unwrap_or(&tok);
        match float.parse::<f64>() {
            Ok(x) => Ok(Edn::Float(x)),
            Err(_) => Err(self.error(format!("`{tok}` is not a number"))),
        }
    }

    fn seq(&mut self, close: char, depth: usize) -> Result<Vec<Edn>, EdnError> {
        let mut items = Vec::new();
        loop {
            self.skip_space();
            match self.chars.peek() {
                None => return Err(self.error(format!("unexpected end of input, expected `{close}`"))),
                Some(&c) if c == close => {
                    self.bump();
                    return Ok(items);
                }
                Some(_) => items.push(self.value(depth + 1)?),
            }
        }
    }

    fn map(&mut self, depth: usize) -> Result<Edn, EdnError> {
        let items = self.seq('}', depth)?;
        if items.len() % 2 != 0 {
            return Err(self.error("a map needs an even number of forms (a value for every key)"));
        }
        let mut entries = Vec::with_capacity(items.len() / 2);
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            entries.push((k, v));
        }
        Ok(Edn::Map(entries))
    }

    fn string(&mut self) -> Result<Edn, EdnError> {
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error("unterminated string")),
                Some('"') => return Ok(Edn::Str(s)),
                Some('\\') => match self.bump() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('r') => s.push('\r'),
                    Some('"') => s.push('"'),
                    Some('\\') => s.push('\\'),
                    Some('u') => {
                        let hex: String = (0..4).filter_map(|_| self.bump()).collect();
                        let c = u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or_else(|| self.error(format!("bad unicode escape `\\u{hex}`")))?;
                        s.push(c);
                    }
                    Some(c) => return Err(self.error(format!("unknown escape `\\{c}` in a string"))),
                    None => return Err(self.error("unterminated string")),
                },
                Some(c) => s.push(c),
            }
        }
    }

    fn character(&mut self) -> Result<Edn, EdnError> {
        let Some(first) = self.bump() else {
            return Err(self.error("expected a character after `\\`"));
        };
        let rest = self.token();
        if rest.is_empty() {
            return Ok(Edn::Char(first));
        }
        let name = format!("{first}{rest}");
        let c = match name.as_str() {
            "newline" => '\n',
            "space" => ' ',
            "tab" => '\t',
            "return" => '\r',
            _ => return Err(self.error(format!("unknown character `\\{name}`"))),
        };
        Ok(Edn::Char(c))
    }
}

/// Parses all top-level values of `text`, each with the line it starts on.
pub fn parse_all(text: &str) -> Result<Vec<(u32, Edn)>, EdnError> {
    let mut reader = EdnReader::new(text);
    let mut out = Vec::new();
    while let Some(v) = reader.next_value()? {
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Edn {
        let mut all = parse_all(text).unwrap();
        assert_eq!(all.len(), 1, "{text}");
        all.remove(0).1
    }

    #[test]
    fn reads_the_forms_histories_use() {
        assert_eq!(one("nil"), Edn::Nil);
        assert_eq!(one("-12"), Edn::Int(-12));
        assert_eq!(one("12N"), Edn::Int(12));
        assert_eq!(one("1.5"), Edn::Float(1.5));
        assert_eq!(one(":timed-out"), Edn::Keyword("timed-out".into()));
        assert_eq!(one(":jepsen.x/y"), Edn::Keyword("jepsen.x/y".into()));
        assert_eq!(one("\"a \\\"b\\\"\\n\""), Edn::Str("a \"b\"\n".into()));
        assert_eq!(one("[3 0]"), Edn::Vector(vec![Edn::Int(3), Edn::Int(0)]));
        assert_eq!(one("\\a"), Edn::Char('a'));
        assert_eq!(one("\\newline"), Edn::Char('\n'));
        assert_eq!(one("#{1 2}"), Edn::Set(vec![Edn::Int(1), Edn::Int(2)]));
        assert_eq!(one("#inst \"2020\""), Edn::Tagged("inst".into(), Box::new(Edn::Str("2020".into()))));
        assert_eq!(one("[1 #_ 2 3]"), Edn::Vector(vec![Edn::Int(1), Edn::Int(3)]));
        let m = one("{:process 0, :type :invoke, :f :txn, :value [[:read :x nil] [:write :y 2]]} ; note");
        assert_eq!(m.get("process"), Some(&Edn::Int(0)));
        assert_eq!(m.get("value").unwrap().to_json(), serde_json::json!([["read", "x", null], ["write", "y", 2]]));
    }

    #[test]
    fn reports_lines_of_values_and_errors() {
        let all = parse_all("; header\n{:a 1}\n\n{:a 2}\n").unwrap();
        assert_eq!(all.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![2, 4]);
        let e = parse_all("{:a 1}\n{:a 2\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("expected `}`"), "{e}");
        let e = parse_all("{:a}").unwrap_err();
        assert!(e.message.contains("even number"), "{e}");
        assert!(parse_all("]").is_err());
        assert!(parse_all("\"abc").is_err());
        assert!(parse_all(&"[".repeat(10_000)).is_err());
    }

    #[test]
    fn never_panics_on_random_input() {
        // A cheap fuzz: random bytes drawn from the characters EDN cares about.
        let alphabet: Vec<char> = "[](){}#_:;\\\"\n ,-+0123456789.NMabnilxyz\u{e9}".chars().collect();
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..20_000 {
            let len = (crate::rng::splitmix(&mut seed) % 24) as usize;
            let text: String = (0..len).map(|_| alphabet[(crate::rng::splitmix(&mut seed) % alphabet.len() as u64) as usize]).collect();
            let _ = parse_all(&text);
        }
    }
}
