//! PDF figures for LaTeX: linres's own SVG converted to vector PDF, with the embedded DejaVu Sans
//! (the font the PNG and SVG use) loaded into the converter's font database, so the text is real,
//! embedded text whatever fonts the machine has.

use std::sync::{Arc, OnceLock};

use usvg::fontdb::Database;

/// The embedded fonts, loaded once, with DejaVu Sans as the `sans-serif` family plotters names.
fn fonts() -> Arc<Database> {
    static FONTS: OnceLock<Arc<Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = Database::new();
            db.load_font_data(dejavu::sans::regular().to_vec());
            db.load_font_data(dejavu::sans::bold().to_vec());
            db.set_sans_serif_family("DejaVu Sans");
            Arc::new(db)
        })
        .clone()
}

/// The PDF of an SVG document (one page of the SVG's size, fonts embedded as subsets); the
/// parser's or converter's message when the SVG cannot be converted.
pub fn from_svg(svg: &str) -> Result<Vec<u8>, String> {
    let options = usvg::Options { font_family: "DejaVu Sans".into(), fontdb: fonts(), ..usvg::Options::default() };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| format!("reading the SVG: {e}"))?;
    svg2pdf::to_pdf(&tree, svg2pdf::ConversionOptions::default(), svg2pdf::PageOptions::default())
        .map_err(|e| format!("converting to PDF: {e}"))
}
