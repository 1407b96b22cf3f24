//! Printing tokens on one line, the way rustfmt would.

use quote::ToTokens;

/// A function signature, `pub` and on one line.
pub(super) fn signature(sig: &syn::Signature) -> String {
    // A where clause's trailing comma is noise in a one-line signature.
    let text = tidy(&sig.to_token_stream());
    format!("pub {}", text.strip_suffix(',').unwrap_or(&text))
}

/// A type on one line.
pub(super) fn ty(t: &syn::Type) -> String {
    tidy(&t.to_token_stream())
}

/// Prints tokens the way rustfmt would, on one line, so signatures read naturally:
/// `Result<Option<i64>, String>`, `&'a self`, `<V as TryInto<T>>::Error`.
pub fn tidy(tokens: &proc_macro2::TokenStream) -> String {
    let mut parts = Vec::new();
    split(tokens.clone(), &mut parts);
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 && !joins(&parts[i - 1], part) {
            out.push(' ');
        }
        out.push_str(part);
    }
    // Trailing commas (`send(self,)`) are noise on one line.
    out.replace(",)", ")").replace(",>", ">").replace(",]", "]")
}

/// Flattens tokens into printable pieces: delimiters on their own, `::`, `->`, `=>` and
/// lifetimes (`'a`) as one piece each.
fn split(tokens: proc_macro2::TokenStream, out: &mut Vec<String>) {
    use proc_macro2::{Delimiter, Spacing, TokenTree};
    let mut pending_joint: Option<String> = None;
    for tree in tokens {
        match tree {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                if !open.is_empty() {
                    out.push(open.to_owned());
                }
                split(group.stream(), out);
                if !close.is_empty() {
                    out.push(close.to_owned());
                }
            }
            TokenTree::Punct(punct) => {
                let c = punct.as_char();
                if let Some(mut joint) = pending_joint.take() {
                    joint.push(c);
                    if matches!(joint.as_str(), "::" | "->" | "=>") {
                        out.push(joint);
                        continue;
                    }
                    // Not a pair worth keeping together (`>>`): print both on their own.
                    let first = joint.remove(0).to_string();
                    out.push(first);
                }
                if punct.spacing() == Spacing::Joint && c != '>' {
                    pending_joint = Some(c.to_string());
                } else {
                    out.push(c.to_string());
                }
            }
            TokenTree::Ident(ident) => match pending_joint.take() {
                // A lifetime: `'` joined to its name.
                Some(tick) if tick == "'" => out.push(format!("'{ident}")),
                Some(other) => {
                    out.push(other);
                    out.push(ident.to_string());
                }
                None => out.push(ident.to_string()),
            },
            TokenTree::Literal(literal) => {
                if let Some(other) = pending_joint.take() {
                    out.push(other);
                }
                out.push(literal.to_string());
            }
        }
    }
    if let Some(other) = pending_joint {
        out.push(other);
    }
}

/// Keywords that are followed by a space even before `<`, `(` or `::`.
const KEYWORDS: [&str; 18] = [
    "as", "dyn", "where", "mut", "in", "pub", "fn", "const", "unsafe", "async", "type", "struct", "enum",
    "trait", "static", "ref", "impl", "for",
];

/// Whether a token is a name (an identifier, a path keyword such as `self`, or a lifetime).
fn is_name(token: &str) -> bool {
    !token.is_empty()
        && token
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '\'')
        && !KEYWORDS.contains(&token)
}

/// Whether `next` is printed right after `prev`, without a space.
fn joins(prev: &str, next: &str) -> bool {
    if matches!(prev, "::" | "&" | "(" | "[" | "<" | "#" | "!") {
        return true;
    }
    match next {
        "," | ";" | ")" | "]" | "?" | "." | ">" | ":" => true,
        "::" => is_name(prev) || prev == ">",
        "<" => is_name(prev) || matches!(prev, "impl" | "for" | "fn"),
        "(" => is_name(prev) || prev == ">",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidies_token_text() {
        let t = |s: &str| tidy(&s.parse::<proc_macro2::TokenStream>().expect("tokens"));
        assert_eq!(
            t("pub fn new(client: &'a super::Client) -> Self"),
            "pub fn new(client: &'a super::Client) -> Self"
        );
        assert_eq!(
            t("::std::result::Result<::std::option::Option<i64>, ::std::string::String>"),
            "::std::result::Result<::std::option::Option<i64>, ::std::string::String>"
        );
        assert_eq!(
            t(
                "fn body<V>(mut self, value: V) -> Self where V: std::convert::TryInto<types::X>, <V as std::convert::TryInto<types::X>>::Error: std::fmt::Display"
            ),
            "fn body<V>(mut self, value: V) -> Self where V: std::convert::TryInto<types::X>, <V as std::convert::TryInto<types::X>>::Error: std::fmt::Display"
        );
        assert_eq!(t("[ErrorCode; 35]"), "[ErrorCode; 35]");
        assert_eq!(t("&'static [&'static str]"), "&'static [&'static str]");
        assert_eq!(t("impl<'de>"), "impl<'de>");
        assert_eq!(t("::serde::Deserialize<'de>"), "::serde::Deserialize<'de>");
        assert_eq!(
            t("async fn send(self) -> Result<ResponseValue<()>, Error<()>>"),
            "async fn send(self) -> Result<ResponseValue<()>, Error<()>>"
        );
    }
}
