//! Sizes for print: a figure's canvas in pixels from its printed size in points, its text measured
//! in the embedded font, and its frame (title and legend, wrapped to the printed width) laid out
//! before anything is drawn, so the default height fits what the figure holds.

use plotters::style::{FontDesc, FontStyle, IntoFont};

use super::draw::FONT;
use crate::grid::figure::PrintSize;

/// Pixels per printed point: SVG, PDF and PNG are drawn on one canvas this many times the printed
/// size (the SVG and PDF are then declared at the printed size; the PNG keeps the pixels, about
/// 290 dpi).
pub const PX_PER_PT: f64 = 4.0;
/// plotters writes the SVG `font-size` of a font as its size divided by this.
const SVG_EM: f64 = 1.24;
/// Line height of text, in font sizes.
const LEADING: f64 = 1.3;
/// The legend's marker column and the gap after an entry, in font sizes.
const MARKER: f64 = 2.6;
const ENTRY_GAP: f64 = 1.4;

/// A figure's canvas: its printed width and height and the size of its smallest text, in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Canvas {
    pub width: f64,
    pub height: f64,
    pub font: f64,
}

impl Canvas {
    /// Pixels per printed point: about [`PX_PER_PT`], exactly a whole number of pixels across the
    /// printed width (so that text measured against the width has exactly its size).
    pub fn scale(&self) -> f64 {
        (self.width * PX_PER_PT).round() / self.width
    }

    /// The canvas in pixels.
    pub fn pixels(&self) -> (u32, u32) {
        ((self.width * self.scale()).round() as u32, (self.height * self.scale()).round() as u32)
    }

    /// The printed height of the canvas' whole pixels, in points (within a quarter point of
    /// `height`).
    pub fn printed_height(&self) -> f64 {
        self.pixels().1 as f64 / self.scale()
    }

    /// `pt` printed points in pixels.
    pub fn px(&self, pt: f64) -> i32 {
        (pt * self.scale()).round() as i32
    }

    /// `k` font sizes in pixels.
    pub fn em(&self, k: f64) -> i32 {
        self.px(self.font * k)
    }

    /// A line `pt` printed points wide, in pixels (at least one).
    pub fn stroke(&self, pt: f64) -> u32 {
        (pt * self.scale()).round().max(1.0) as u32
    }

    /// The font at `k` (≥ 1) times the figure's font size: printed at `k × font` points.
    pub fn text(&self, k: f64) -> FontDesc<'static> {
        (FONT, self.font * k.max(1.0) * self.scale() * SVG_EM).into_font()
    }

    /// The title font: bold, 1.15 font sizes.
    pub fn title_font(&self) -> FontDesc<'static> {
        self.text(1.15).style(FontStyle::Bold)
    }
}

/// The width of `text` in `font`, in pixels.
pub fn text_width(text: &str, font: &FontDesc) -> i32 {
    font.box_size(text)
        .map(|(w, _)| w as i32)
        .unwrap_or_else(|_| (text.chars().count() as f64 * font.get_size() * 0.5) as i32)
}

/// `text` broken at spaces into lines at most `width` pixels wide in `font` (a word wider than
/// that stays whole on its own line).
pub fn wrap(text: &str, font: &FontDesc, width: i32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if !line.is_empty() && text_width(&candidate, font) > width {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    lines.push(line);
    lines
}

/// One legend entry placed: the top left of its marker and its text's lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub x: i32,
    pub y: i32,
    pub lines: Vec<String>,
}

/// The title and legend of a figure laid out at its printed width, in pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub title: Vec<String>,
    /// Height of the title strip.
    pub title_h: i32,
    /// Entries, in the order given, flowing left to right and wrapping into rows.
    pub items: Vec<Item>,
    /// Height of the legend strip.
    pub legend_h: i32,
}

impl Frame {
    /// The frame of a figure titled `title` with legend texts `texts` on canvas `c`.
    pub fn of(c: &Canvas, title: &str, texts: &[String]) -> Frame {
        let (w, _) = c.pixels();
        let side = c.em(0.8);
        let avail = w as i32 - 2 * side;
        let title_font = c.title_font();
        let title_lines = wrap(title, &title_font, avail);
        let title_h = c.em(0.5) + title_lines.len() as i32 * c.em(1.15 * LEADING) + c.em(0.3);
        let font = c.text(1.0);
        let line_h = c.em(LEADING);
        let (marker, gap) = (c.em(MARKER), c.em(ENTRY_GAP));
        let mut items = Vec::new();
        let (mut x, mut y, mut row_h) = (side, c.em(0.4), 0);
        for text in texts {
            let lines = wrap(text, &font, avail - marker);
            let width = marker + lines.iter().map(|l| text_width(l, &font)).max().unwrap_or(0);
            if x > side && x + width > side + avail {
                (x, y, row_h) = (side, y + row_h, 0);
            }
            row_h = row_h.max(lines.len() as i32 * line_h);
            items.push(Item { x, y, lines });
            x += width + gap;
        }
        let legend_h = y + row_h + c.em(0.4);
        Frame { title: title_lines, title_h, items, legend_h }
    }

    /// The canvas of `print` for a figure with this frame around a body whose default height in
    /// points at a printed width is `body`: the declared height, or the frame's and the body's.
    pub fn canvas(print: PrintSize, title: &str, texts: &[String], body: impl Fn(f64) -> f64) -> Canvas {
        let mut c = Canvas { width: print.width, height: print.height.unwrap_or(0.0), font: print.font };
        if print.height.is_none() {
            let f = Frame::of(&c, title, texts);
            c.height = ((f.title_h + f.legend_h) as f64 / c.scale() + body(print.width)).ceil();
        }
        c
    }
}
