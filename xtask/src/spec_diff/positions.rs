//! Where each node of a YAML document is written: its line and column, by path from the root.
//!
//! `serde_yaml_ng` gives values without positions, so the text is read a second time with
//! `saphyr-parser`'s event stream, whose events carry spans. A map entry is placed at its key
//! (`maxLength:` rather than the `200` after it), a list item at its first character, so an
//! annotation lands on the line a reviewer would point at.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};

/// A 1-based line and column in the YAML text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
}

/// The positions of a document's nodes, by path (map keys and list indexes as strings).
#[derive(Debug, Clone, Default)]
pub struct Positions {
    map: HashMap<Vec<String>, Position>,
}

/// One open collection while reading events.
struct Frame {
    /// What the collection is, and where it is in it.
    open: Open,
    /// Whether entering it pushed a segment onto the path (the root did not).
    pushed: bool,
}

enum Open {
    /// A mapping; `key` is `Some` between a key and its value.
    Map { key: Option<String> },
    /// A sequence and the index of its next item.
    List { next: usize },
}

impl Positions {
    /// Reads the positions of `text`'s first document. Text that does not parse gives the
    /// positions read before the error (the review itself reports invalid YAML).
    pub fn index(text: &str) -> Self {
        let mut map = HashMap::new();
        let mut path: Vec<String> = Vec::new();
        let mut stack: Vec<Frame> = Vec::new();
        for event in Parser::new_from_str(text) {
            let Ok((event, span)) = event else { break };
            let here = Position {
                line: span.start.line(),
                col: span.start.col() + 1,
            };
            match event {
                Event::Scalar(value, ..) => {
                    if let Some(Frame {
                        open: Open::Map { key: key @ None },
                        ..
                    }) = stack.last_mut()
                    {
                        // A key: the entry is placed here, and its value goes under it.
                        let mut entry = path.clone();
                        entry.push(value.to_string());
                        map.entry(entry).or_insert(here);
                        *key = Some(value.to_string());
                        continue;
                    }
                    let pushed = enter(&mut stack, &mut path);
                    map.entry(path.clone()).or_insert(here);
                    if pushed {
                        path.pop();
                    }
                }
                Event::Alias(_) => {
                    let pushed = enter(&mut stack, &mut path);
                    map.entry(path.clone()).or_insert(here);
                    if pushed {
                        path.pop();
                    }
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    // A collection used as a key (`? [a, b]: c`) is not addressable by a path;
                    // it gets a placeholder name so the events stay balanced.
                    if let Some(Frame {
                        open: Open::Map { key: key @ None },
                        ..
                    }) = stack.last_mut()
                    {
                        *key = Some("?".to_owned());
                    }
                    let pushed = enter(&mut stack, &mut path);
                    map.entry(path.clone()).or_insert(here);
                    let open = if matches!(event, Event::MappingStart(..)) {
                        Open::Map { key: None }
                    } else {
                        Open::List { next: 0 }
                    };
                    stack.push(Frame { open, pushed });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    // Leaving a collection pops the segment entering it pushed.
                    let pushed = stack.pop().is_some_and(|frame| frame.pushed);
                    path.truncate(path.len() - usize::from(pushed));
                }
                Event::DocumentEnd => break,
                _ => {}
            }
        }
        Self { map }
    }

    /// The position of the node at `path`, or of its nearest ancestor that has one.
    pub fn find(&self, path: &[String]) -> Option<Position> {
        (0..=path.len())
            .rev()
            .find_map(|len| self.map.get(&path[..len]).copied())
    }

    /// The position of exactly the node at `path`.
    pub fn exact(&self, path: &[String]) -> Option<Position> {
        self.map.get(path).copied()
    }
}

/// Starts a node in the current collection: pushes its key or index onto `path`. Returns
/// whether a segment was pushed (the document's root has none).
fn enter(stack: &mut [Frame], path: &mut Vec<String>) -> bool {
    match stack.last_mut().map(|frame| &mut frame.open) {
        Some(Open::Map { key }) => {
            path.push(key.take().unwrap_or_default());
            true
        }
        Some(Open::List { next }) => {
            path.push(next.to_string());
            *next += 1;
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(positions: &Positions, path: &str) -> Option<(usize, usize)> {
        let path: Vec<String> = if path.is_empty() {
            Vec::new()
        } else {
            path.split('/').map(str::to_owned).collect()
        };
        positions.exact(&path).map(|p| (p.line, p.col))
    }

    #[test]
    fn places_keys_items_and_flow_nodes() {
        let text = "a:\n  b: 1\n  list:\n    - x\n    - {k: v, m: [1, 2]}\nc: 3\n";
        let positions = Positions::index(text);
        assert_eq!(at(&positions, "a"), Some((1, 1)));
        assert_eq!(at(&positions, "a/b"), Some((2, 3)));
        assert_eq!(at(&positions, "a/list"), Some((3, 3)));
        assert_eq!(at(&positions, "a/list/0"), Some((4, 7)));
        assert_eq!(at(&positions, "a/list/1"), Some((5, 7)));
        assert_eq!(at(&positions, "a/list/1/k"), Some((5, 8)));
        assert_eq!(at(&positions, "a/list/1/m/1"), Some((5, 21)));
        assert_eq!(at(&positions, "c"), Some((6, 1)));
        let missing: Vec<String> = ["a", "b", "nope"].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(positions.find(&missing).map(|p| p.line), Some(2));
    }
}
