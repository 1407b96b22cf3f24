//! A small Rust lexer for the tidy checks: string literals, integer literals, identifiers and
//! punctuation with their line numbers, comments (doc comments included) dropped.
//!
//! Why not `syn`: the checks need line numbers, which `proc-macro2` gives only with its
//! `span-locations` feature; enabling it in this crate would rebuild progenitor, typify and the
//! code generator for every test binary. The checks also look inside macro bodies
//! (`format!`, `tracing::info_span!`), which `syn` leaves as unparsed tokens anyway.

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Ident(String),
    /// A string literal's contents, escapes left as written (any prefix: `b`, `r#`, `c`).
    Str(String),
    /// An integer literal's value (underscores and type suffix removed).
    Int(u128),
    Punct(char),
    /// A lifetime, a char literal or a float: nothing the checks look at.
    Other,
}

/// A token and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub line: usize,
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    out: Vec<Token>,
}

/// Splits `src` into tokens. Unterminated literals and comments end at the end of the file.
pub fn lex(src: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        chars: src.chars().collect(),
        pos: 0,
        line: 1,
        out: Vec::new(),
    };
    lexer.run();
    lexer.out
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn push(&mut self, tok: Tok, line: usize) {
        self.out.push(Token { tok, line });
    }

    fn run(&mut self) {
        while let Some(c) = self.peek(0) {
            let line = self.line;
            match c {
                _ if c.is_whitespace() => {
                    self.bump();
                }
                '/' if self.peek(1) == Some('/') => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                '/' if self.peek(1) == Some('*') => self.block_comment(),
                '"' => {
                    self.bump();
                    let s = self.quoted();
                    self.push(Tok::Str(s), line);
                }
                '\'' => self.quote_or_lifetime(line),
                _ if c.is_ascii_digit() => self.number(line),
                _ if c.is_alphabetic() || c == '_' => self.ident_or_prefixed_literal(line),
                _ => {
                    self.bump();
                    self.push(Tok::Punct(c), line);
                }
            }
        }
    }

    fn block_comment(&mut self) {
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            if c == '/' && self.peek(1) == Some('*') {
                depth += 1;
                self.bump();
                self.bump();
            } else if c == '*' && self.peek(1) == Some('/') {
                depth -= 1;
                self.bump();
                self.bump();
                if depth == 0 {
                    return;
                }
            } else {
                self.bump();
            }
        }
    }

    /// The rest of a `"…"` literal whose opening quote was consumed.
    fn quoted(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.bump() {
            match c {
                '\\' => {
                    if let Some(escaped) = self.bump() {
                        s.push('\\');
                        s.push(escaped);
                    }
                }
                '"' => break,
                _ => s.push(c),
            }
        }
        s
    }

    /// The rest of a raw literal `r#…#"…"#…#` from the first `#` or `"`.
    fn raw_quoted(&mut self) -> String {
        let mut hashes = 0;
        while self.peek(0) == Some('#') {
            hashes += 1;
            self.bump();
        }
        self.bump(); // the opening quote
        let mut s = String::new();
        while let Some(c) = self.bump() {
            if c == '"' && (0..hashes).all(|i| self.peek(i) == Some('#')) {
                for _ in 0..hashes {
                    self.bump();
                }
                break;
            }
            s.push(c);
        }
        s
    }

    fn quote_or_lifetime(&mut self, line: usize) {
        self.bump();
        let is_char = matches!(
            (self.peek(0), self.peek(1)),
            (Some('\\'), _) | (Some(_), Some('\''))
        );
        if is_char {
            while let Some(c) = self.bump() {
                match c {
                    '\\' => {
                        self.bump();
                    }
                    '\'' => break,
                    _ => {}
                }
            }
        } else {
            while self.peek(0).is_some_and(|c| c.is_alphanumeric() || c == '_') {
                self.bump();
            }
        }
        self.push(Tok::Other, line);
    }

    fn number(&mut self, line: usize) {
        let mut text = String::new();
        let mut float = false;
        while let Some(c) = self.peek(0) {
            let part_of_number = c.is_ascii_alphanumeric()
                || c == '_'
                || (c == '.' && self.peek(1).is_some_and(|d| d.is_ascii_digit()) && !text.contains('.'));
            if !part_of_number {
                break;
            }
            float |= c == '.';
            text.push(c);
            self.bump();
        }
        let tok = if float {
            Tok::Other
        } else {
            parse_int(&text).map_or(Tok::Other, Tok::Int)
        };
        self.push(tok, line);
    }

    fn ident_or_prefixed_literal(&mut self, line: usize) {
        let mut ident = String::new();
        while self.peek(0).is_some_and(|c| c.is_alphanumeric() || c == '_') {
            ident.push(self.peek(0).unwrap_or('_'));
            self.bump();
        }
        let prefix = matches!(ident.as_str(), "b" | "c" | "r" | "br" | "cr");
        match self.peek(0) {
            Some('"') if prefix && !ident.ends_with('r') => {
                self.bump();
                let s = self.quoted();
                self.push(Tok::Str(s), line);
            }
            Some('"') | Some('#') if prefix && ident.ends_with('r') && self.raw_start() => {
                let s = self.raw_quoted();
                self.push(Tok::Str(s), line);
            }
            Some('\'') if ident == "b" => self.quote_or_lifetime(line),
            Some('#') if ident == "r" => {
                // A raw identifier: r#type.
                self.bump();
                let mut raw = String::new();
                while self.peek(0).is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    raw.push(self.peek(0).unwrap_or('_'));
                    self.bump();
                }
                self.push(Tok::Ident(raw), line);
            }
            _ => self.push(Tok::Ident(ident), line),
        }
    }

    /// Whether `#…#"` or `"` starts here (a raw string after its `r`).
    fn raw_start(&self) -> bool {
        let mut i = 0;
        while self.peek(i) == Some('#') {
            i += 1;
        }
        self.peek(i) == Some('"')
    }
}

/// The value of an integer literal as written (`86_400`, `0x10`, `4194304u64`).
fn parse_int(text: &str) -> Option<u128> {
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    let (radix, body) = match digits.get(..2) {
        Some("0x") => (16, &digits[2..]),
        Some("0o") => (8, &digits[2..]),
        Some("0b") => (2, &digits[2..]),
        _ => (10, digits.as_str()),
    };
    let end = body.find(|c: char| !c.is_digit(radix)).unwrap_or(body.len());
    let suffix = &body[end..];
    let known_suffix = suffix.is_empty()
        || [
            "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        ]
        .contains(&suffix);
    if !known_suffix {
        return None;
    }
    u128::from_str_radix(&body[..end], radix).ok()
}

/// `tokens` without the items under `#[cfg(test)]` (a test module, a test-only function): test
/// code may name any fact it checks.
pub fn without_test_items(tokens: &[Token]) -> Vec<Token> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if let Some(after) = cfg_test_attribute(tokens, i) {
            i = skip_item(tokens, after);
        } else {
            out.push(tokens[i].clone());
            i += 1;
        }
    }
    out
}

/// If an attribute `#[cfg(…test…)]` (without `not`) starts at `i`, the index after it.
fn cfg_test_attribute(tokens: &[Token], i: usize) -> Option<usize> {
    if tokens.get(i)?.tok != Tok::Punct('#') || tokens.get(i + 1)?.tok != Tok::Punct('[') {
        return None;
    }
    let end = matching(tokens, i + 1, '[', ']')?;
    let inner = &tokens[i + 2..end];
    let is_ident = |t: &Token, name: &str| matches!(&t.tok, Tok::Ident(s) if s == name);
    let cfg_test = inner.first().is_some_and(|t| is_ident(t, "cfg"))
        && inner.iter().any(|t| is_ident(t, "test"))
        && !inner.iter().any(|t| is_ident(t, "not"));
    cfg_test.then_some(end + 1)
}

/// The index after the item starting at `i` (further attributes, then up to its `;` or its
/// closing brace).
fn skip_item(tokens: &[Token], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < tokens.len() {
        match tokens[i].tok {
            Tok::Punct('(') | Tok::Punct('[') => depth += 1,
            Tok::Punct(')') | Tok::Punct(']') => depth = depth.saturating_sub(1),
            Tok::Punct(';') if depth == 0 => return i + 1,
            Tok::Punct('{') if depth == 0 => {
                return matching(tokens, i, '{', '}').map_or(tokens.len(), |end| end + 1);
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// The index of the bracket closing the one at `open_at`.
pub fn matching(tokens: &[Token], open_at: usize, open: char, close: char) -> Option<usize> {
    let mut depth = 0usize;
    for (j, token) in tokens.iter().enumerate().skip(open_at) {
        if token.tok == Tok::Punct(open) {
            depth += 1;
        } else if token.tok == Tok::Punct(close) {
            depth -= 1;
            if depth == 0 {
                return Some(j);
            }
        }
    }
    None
}

#[test]
fn the_lexer_sees_literals_and_skips_comments_and_test_code() {
    let src = r####"
// "upload_part" in a comment
/// 86400 in a doc comment
/* "nested /* block */ 20971520" */
let a = "upload_all"; let b = r#"raw "quoted""#; let c = br"bytes";
let d = 86_400u64 + 0x10; let e = 'x'; let f: &'static str = "\"esc\"";
let g = 1.5; let h = r#type;
#[cfg(test)]
mod tests { const X: u32 = 99991400; }
#[cfg(not(test))]
const Y: u32 = 7;
"####;
    let tokens = without_test_items(&lex(src));
    let strings: Vec<&str> = tokens
        .iter()
        .filter_map(|t| match &t.tok {
            Tok::Str(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(strings, ["upload_all", "raw \"quoted\"", "bytes", "\\\"esc\\\""]);
    let ints: Vec<(u128, usize)> = tokens
        .iter()
        .filter_map(|t| match t.tok {
            Tok::Int(v) => Some((v, t.line)),
            _ => None,
        })
        .collect();
    assert_eq!(ints, [(86_400, 6), (16, 6), (7, 11)]);
    assert!(tokens.iter().any(|t| t.tok == Tok::Ident("type".to_owned())));
}
