//! Where each field of a YAML document is written: a map from dotted paths (`model.width`,
//! `model.width[1]`, `zip[0].optim.iters`) to 1-based line and column.
//!
//! serde_norway parses the content; this index, built from yaml-rust2's marked parser events, only
//! adds positions to the errors found after parsing (wrong types, broken rules, impossible
//! combinations). A document yaml-rust2 cannot read yields an empty index: errors then carry the
//! field path without a position.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A 1-based position in a text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Dotted path → position of the key (map entries) or of the element (sequence items).
#[derive(Debug, Clone, Default)]
pub struct Locations {
    positions: HashMap<String, Position>,
}

impl Locations {
    pub fn of(text: &str) -> Locations {
        let mut builder = Builder { stack: Vec::new(), positions: HashMap::new() };
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut builder, false).is_err() {
            return Locations::default();
        }
        Locations { positions: builder.positions }
    }

    /// The position of `path`, or of its nearest enclosing field that has one.
    pub fn find(&self, path: &str) -> Option<Position> {
        let mut p = path;
        loop {
            if let Some(pos) = self.positions.get(p) {
                return Some(*pos);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, index: usize },
}

struct Builder {
    stack: Vec<Frame>,
    positions: HashMap<String, Position>,
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_string() } else { format!("{parent}.{key}") }
}

impl Builder {
    /// The path of a value about to start at the top of the stack, recording its position.
    fn value_path(&mut self, mark: Marker) -> String {
        match self.stack.last_mut() {
            None => String::new(),
            Some(Frame::Map { path, key }) => join(path, &key.take().unwrap_or_default()),
            Some(Frame::Seq { path, index }) => {
                let p = format!("{path}[{index}]");
                *index += 1;
                self.positions.entry(p.clone()).or_insert(Position { line: mark.line(), column: mark.col() + 1 });
                p
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map { path, key }) = self.stack.last_mut()
                    && key.is_none()
                {
                    let p = join(path, &value);
                    self.positions.insert(p, Position { line: mark.line(), column: mark.col() + 1 });
                    *key = Some(value);
                    return;
                }
                self.value_path(mark);
            }
            Event::MappingStart(..) => {
                let path = self.value_path(mark);
                self.stack.push(Frame::Map { path, key: None });
            }
            Event::SequenceStart(..) => {
                let path = self.value_path(mark);
                self.stack.push(Frame::Seq { path, index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            Event::Alias(_) => {
                self.value_path(mark);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_elements_are_located_in_block_and_flow_style() {
        let text = "name: x\nmodel:\n  arch: resnet\n  width: [40, 200]\nzip:\n  - optim.iters: [1, 2]\n";
        let loc = Locations::of(text);
        assert_eq!(loc.find("name"), Some(Position { line: 1, column: 1 }));
        assert_eq!(loc.find("model.arch"), Some(Position { line: 3, column: 3 }));
        assert_eq!(loc.find("model.width"), Some(Position { line: 4, column: 3 }));
        assert_eq!(loc.find("model.width[1]"), Some(Position { line: 4, column: 15 }));
        assert_eq!(loc.find("zip[0].optim.iters"), Some(Position { line: 6, column: 5 }));
        // Unknown sub-paths fall back to the nearest enclosing field.
        assert_eq!(loc.find("model.width[1].x"), Some(Position { line: 4, column: 15 }));
        assert_eq!(loc.find("nothing"), None);
    }

    #[test]
    fn unreadable_documents_give_no_positions() {
        assert_eq!(Locations::of("a: [1, 2\n").find("a"), None);
    }
}
