//! PDF figures for LaTeX: linres's own SVG converted to vector PDF, with the embedded DejaVu Sans
//! (the font the PNG and SVG use) loaded into the converter's font database, so the text is real,
//! embedded text whatever fonts the machine has. The page is the SVG's declared size in points, and
//! the file says PDF 1.5, the newest version pdflatex includes without a warning (the converter
//! writes 1.7 in its header but uses nothing newer than 1.4: transparency, embedded TrueType).

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

/// The version the converter writes, and the one written instead (same length: no offset moves).
const HEADER: (&[u8], &[u8]) = (b"%PDF-1.7", b"%PDF-1.5");

/// The PDF of an SVG document (one page of the SVG's size, a length in `pt` becoming that many PDF
/// points; fonts embedded as subsets), as PDF 1.5; the parser's or converter's message when the
/// SVG cannot be converted.
pub fn from_svg(svg: &str) -> Result<Vec<u8>, String> {
    // At 72 dpi one `pt` of the SVG is one unit of the converter, which writes a unit as a point.
    let options =
        usvg::Options { font_family: "DejaVu Sans".into(), fontdb: fonts(), dpi: 72.0, ..usvg::Options::default() };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| format!("reading the SVG: {e}"))?;
    let mut pdf = svg2pdf::to_pdf(&tree, svg2pdf::ConversionOptions::default(), svg2pdf::PageOptions::default())
        .map_err(|e| format!("converting to PDF: {e}"))?;
    if !pdf.starts_with(HEADER.0) {
        return Err(format!("converting to PDF: the converter's header is not {}", String::from_utf8_lossy(HEADER.0)));
    }
    pdf[..HEADER.1.len()].copy_from_slice(HEADER.1);
    Ok(pdf)
}
