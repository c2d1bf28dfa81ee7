//! Matrices stored in files: `.npy` (float64 or float32, any memory order) and `.csv` (numbers
//! separated by commas, one row per line, an optional header line). On disk, rows are samples.

use std::fmt;
use std::path::{Path, PathBuf};

use ndarray::{Array, Array2, Dimension, Ix1, Ix2};
use ndarray_npy::npy::header::Header;
use ndarray_npy::{ReadNpyError, ReadNpyExt};
use serde::{Deserialize, Deserializer, Serialize};

use crate::canonical;
use crate::error::DataError;

/// A matrix file named in a config, with the blake3 digest of its bytes once resolved (the digest,
/// not the path, enters the run id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatrixFile {
    pub path: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blake3: Option<String>,
}

impl<'de> Deserialize<'de> for MatrixFile {
    /// Either a path string or a map `{path, blake3}` (the resolved form).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = MatrixFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a file path, or a map with `path` and `blake3`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<MatrixFile, E> {
                Ok(MatrixFile { path: PathBuf::from(v), blake3: None })
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<MatrixFile, M::Error> {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Full {
                    path: PathBuf,
                    blake3: Option<String>,
                }
                let f = Full::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(MatrixFile { path: f.path, blake3: f.blake3 })
            }
        }
        d.deserialize_any(V)
    }
}

/// Shape and content digest of a matrix file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    pub rows: usize,
    pub cols: usize,
    pub blake3: String,
}

/// Reads and validates the matrix at `path`, returning its shape and the blake3 hex digest of its bytes.
pub fn digest(path: &Path) -> Result<FileDigest, DataError> {
    let bytes = read_bytes(path)?;
    let m = parse(path, &bytes)?;
    Ok(FileDigest { rows: m.nrows(), cols: m.ncols(), blake3: canonical::hex(blake3::hash(&bytes).as_bytes()) })
}

/// Loads the matrix at `path` (rows as stored), checking that it is 2-D, non-empty and finite.
pub fn load(path: &Path) -> Result<Array2<f64>, DataError> {
    parse(path, &read_bytes(path)?)
}

impl MatrixFile {
    /// Loads the file, checking that its bytes still have the digest recorded when the config was
    /// resolved (the digest is part of the run id; a changed file must not be cached under it).
    pub fn load(&self) -> Result<Array2<f64>, DataError> {
        let bytes = read_bytes(&self.path)?;
        if let Some(expected) = &self.blake3 {
            let found = canonical::hex(blake3::hash(&bytes).as_bytes());
            if &found != expected {
                return Err(format_error(
                    &self.path,
                    format!("the file changed since the configuration was read (blake3 {found}, expected {expected})"),
                ));
            }
        }
        parse(&self.path, &bytes)
    }
}

/// Largest data file read: a quarter of the machine's memory (parsing holds the bytes and the
/// matrix at once), or 4 GiB where the memory is unknown.
fn file_limit() -> u64 {
    crate::fileio::physical_memory().map_or(4 << 30, |m| m / 4)
}

/// The bytes of a data file: a regular file no larger than [`file_limit`].
fn read_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    crate::fileio::read_regular(path, file_limit()).map_err(|source| DataError::Io { path: path.to_path_buf(), source })
}

fn format_error(path: &Path, message: impl Into<String>) -> DataError {
    DataError::Format { path: path.to_path_buf(), message: message.into() }
}

fn parse(path: &Path, bytes: &[u8]) -> Result<Array2<f64>, DataError> {
    let m = match path.extension().and_then(|e| e.to_str()) {
        Some("npy") => parse_npy(path, bytes)?,
        Some("csv") => parse_csv(path, bytes)?,
        _ => return Err(format_error(path, "unknown file type: the extension must be .npy or .csv")),
    };
    if m.nrows() == 0 {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    if m.ncols() == 0 {
        return Err(format_error(path, "the matrix has no columns"));
    }
    if let Some(((row, col), &value)) = m.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(DataError::NonFinite { path: path.to_path_buf(), row, col, value });
    }
    let (lo, hi) = crate::number::MAGNITUDE;
    let largest = m.iter().fold(0.0f64, |acc, v| acc.max(v.abs()));
    if largest != 0.0 && !(lo..=hi).contains(&largest) {
        return Err(format_error(
            path,
            format!(
                "the largest entry has magnitude {largest:e}, outside [{lo:e}, {hi:e}]: products of such \
                 entries under- or overflow (X Xᵀ, the singular values); rescale the data"
            ),
        ));
    }
    Ok(m)
}

fn parse_npy(path: &Path, bytes: &[u8]) -> Result<Array2<f64>, DataError> {
    check_npy_size(path, bytes)?;
    match read_float::<Ix2>(bytes) {
        // A 1-D array of n values is one column: n samples of one feature, or targets with k = 1.
        Err(ReadNpyError::WrongNdim(_, 1)) => read_float::<Ix1>(bytes)
            .map(|v| Array2::from_shape_vec((v.len(), 1), v.to_vec()).expect("n values make an n×1 matrix"))
            .map_err(|e| npy_error(path, e)),
        other => other.map_err(|e| npy_error(path, e)),
    }
}

/// A float64 or float32 array of dimension `D`, as float64.
fn read_float<D: Dimension>(bytes: &[u8]) -> Result<Array<f64, D>, ReadNpyError> {
    match Array::<f64, D>::read_npy(bytes) {
        Err(ReadNpyError::WrongDescriptor(_)) => Array::<f32, D>::read_npy(bytes).map(|m| m.mapv(f64::from)),
        other => other,
    }
}

fn npy_error(path: &Path, e: ReadNpyError) -> DataError {
    match e {
        ReadNpyError::WrongNdim(_, found) => format_error(
            path,
            format!("expected a 2-D array (rows are samples) or a 1-D one, found {found} dimensions"),
        ),
        ReadNpyError::WrongDescriptor(descr) => {
            format_error(path, format!("expected dtype float64 or float32, found {}", descr_text(&descr)))
        }
        other => format_error(path, format!("not a readable .npy file: {other}")),
    }
}

/// Checks the `.npy` header, as the reader will interpret it, against the payload the file holds,
/// before any array is allocated from it: a header may claim a 100000×100000 array on an 800-byte
/// file (the reader allocates the declared size before it reads), or name a key twice.
///
/// Layout: `\x93NUMPY`, major and minor version, the header length (u16 LE in version 1, u32 LE in
/// versions 2 and 3), then a Python dict literal `{'descr': '<f8', 'fortran_order': False,
/// 'shape': (n, d), }` padded with spaces, then the data: exactly item size × Π shape bytes.
/// The header is parsed by the reader's own parser, so the check and the read cannot disagree.
fn check_npy_size(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    let bad = |why: &str| format_error(path, format!("not a readable .npy file: {why}"));
    if bytes.len() < 6 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("it does not start with the .npy magic string"));
    }
    // The reader allocates the header length the file states (up to 4 GiB) before reading it.
    let stated = match bytes.get(6) {
        Some(1) => bytes.get(8..10).map(|b| (10, u16::from_le_bytes([b[0], b[1]]) as usize)),
        Some(2 | 3) => bytes.get(8..12).map(|b| (12, u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)),
        _ => None,
    };
    if let Some((start, len)) = stated
        && start + len > bytes.len()
    {
        return Err(bad(&format!("the header length is {len} bytes but the file holds {}", bytes.len() - start)));
    }
    let mut rest = bytes;
    let header = Header::from_reader(&mut rest).map_err(|e| bad(&e.to_string()))?;
    let descr = &header.type_descriptor;
    let item: u64 = match descr.as_string().map(String::as_str) {
        Some("<f8" | ">f8") => 8,
        Some("<f4" | ">f4") => 4,
        _ => return Err(format_error(path, format!("expected dtype float64 or float32, found {}", descr_text(descr)))),
    };
    let payload = rest.len() as u64;
    let declared = header.shape.iter().try_fold(item, |acc, &d| acc.checked_mul(d as u64));
    if declared != Some(payload) {
        let shape_text = header.shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
        return Err(bad(&format!(
            "the header declares shape ({shape_text}) of {item}-byte values, {}, but the file holds {payload} bytes of data",
            declared.map_or_else(|| "more bytes than can be counted".to_string(), |b| format!("{b} bytes"))
        )));
    }
    Ok(())
}

/// A dtype as numpy writes it (`<i8`, not `'<i8'`), for error messages.
fn descr_text(descr: &impl fmt::Display) -> String {
    descr.to_string().trim_matches('\'').to_string()
}

fn parse_csv(path: &Path, bytes: &[u8]) -> Result<Array2<f64>, DataError> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(bytes);
    let mut values = Vec::new();
    let mut cols = None;
    let mut rows = 0;
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format_error(path, format!("line {}: {e}", line + 1)))?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        let at = record.position().map_or(line + 1, |p| p.line() as usize);
        if record.iter().any(|f| f.contains('\n')) {
            return Err(format_error(path, format!("line {at}: a quoted field is never closed (an unmatched `\"`)")));
        }
        if let Some(sep) = [';', '\t'].into_iter().find(|&c| record.iter().any(|f| f.contains(c))) {
            let name = if sep == ';' { "`;`" } else { "tabs" };
            return Err(format_error(
                path,
                format!("line {at}: values are separated by {name}; linres reads comma-separated values (`1.5,2,3`)"),
            ));
        }
        let parsed: Result<Vec<f64>, _> = record.iter().map(str::parse::<f64>).collect();
        let row = match parsed {
            Ok(row) => row,
            // A first line that is not numbers is a header.
            Err(_) if line == 0 && record.iter().any(|f| f.parse::<f64>().is_err()) => continue,
            Err(_) => {
                let bad = record.iter().find(|f| f.parse::<f64>().is_err()).unwrap_or_default();
                return Err(format_error(path, format!("line {}: `{bad}` is not a number", line + 1)));
            }
        };
        match cols {
            None => cols = Some(row.len()),
            Some(c) if c != row.len() => {
                return Err(format_error(
                    path,
                    format!("line {}: {} values, but earlier rows have {c}", line + 1, row.len()),
                ));
            }
            _ => {}
        }
        values.extend(row);
        rows += 1;
    }
    Array2::from_shape_vec((rows, cols.unwrap_or(0)), values).map_err(|e| format_error(path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use ndarray_npy::WriteNpyExt;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn npy<A: ndarray_npy::WritableElement>(m: &Array2<A>) -> Vec<u8> {
        let mut buf = Vec::new();
        m.write_npy(&mut buf).unwrap();
        buf
    }

    #[test]
    fn npy_float64_float32_and_fortran_order_load() {
        let dir = tempfile::tempdir().unwrap();
        let m = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        assert_eq!(load(&write(dir.path(), "a.npy", &npy(&m))).unwrap(), m);
        let f = m.t().as_standard_layout().to_owned().reversed_axes();
        assert_eq!(load(&write(dir.path(), "f.npy", &npy(&f))).unwrap(), m);
        let m32 = m.mapv(|v| v as f32);
        assert_eq!(load(&write(dir.path(), "b.npy", &npy(&m32))).unwrap(), m);
    }

    #[test]
    fn npy_of_wrong_dtype_or_rank_is_rejected_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let ints = array![[1i64, 2], [3, 4]];
        let e = load(&write(dir.path(), "i.npy", &npy(&ints))).unwrap_err().to_string();
        assert!(e.contains("expected dtype float64 or float32, found <i8"), "{e}");
        let mut buf = Vec::new();
        ndarray::Array3::<f64>::zeros((2, 2, 2)).write_npy(&mut buf).unwrap();
        let e = load(&write(dir.path(), "v.npy", &buf)).unwrap_err().to_string();
        assert!(e.contains("expected a 2-D array") && e.contains("found 3 dimensions"), "{e}");
    }

    #[test]
    fn a_one_dimensional_npy_is_one_column() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in [
            ("y64.npy", {
                let mut b = Vec::new();
                ndarray::arr1(&[1.0, 2.0, 3.5]).write_npy(&mut b).unwrap();
                b
            }),
            ("y32.npy", {
                let mut b = Vec::new();
                ndarray::arr1(&[1.0f32, 2.0, 3.5]).write_npy(&mut b).unwrap();
                b
            }),
        ] {
            assert_eq!(load(&write(dir.path(), name, &bytes)).unwrap(), array![[1.0], [2.0], [3.5]], "{name}");
        }
    }

    #[test]
    fn non_finite_and_empty_matrices_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let m = array![[1.0, f64::NAN]];
        let e = load(&write(dir.path(), "n.npy", &npy(&m))).unwrap_err().to_string();
        assert!(e.contains("non-finite value NaN at row 0, column 1"), "{e}");
        let e = load(&write(dir.path(), "e.npy", &npy(&Array2::<f64>::zeros((0, 3))))).unwrap_err().to_string();
        assert!(e.contains("no samples"), "{e}");
        let e = load(&write(dir.path(), "inf.csv", b"1,2\n3,inf\n")).unwrap_err().to_string();
        assert!(e.contains("non-finite value inf at row 1, column 1"), "{e}");
    }

    #[test]
    fn csv_with_header_loads_and_ragged_rows_fail() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "a.csv", b"x1, x2\n1, 2.5\n\n-3e0,4\n");
        assert_eq!(load(&p).unwrap(), array![[1.0, 2.5], [-3.0, 4.0]]);
        let e = load(&write(dir.path(), "r.csv", b"1,2\n3\n")).unwrap_err().to_string();
        assert!(e.contains("line 2: 1 values, but earlier rows have 2"), "{e}");
        let e = load(&write(dir.path(), "t.csv", b"1,2\n3,x\n")).unwrap_err().to_string();
        assert!(e.contains("line 2: `x` is not a number"), "{e}");
    }

    #[test]
    fn csv_with_an_open_quote_or_another_separator_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(&write(dir.path(), "q.csv", b"1,2\n\"3,4\n5,6\n")).unwrap_err().to_string();
        assert!(e.contains("line 2: a quoted field is never closed"), "{e}");
        let e = load(&write(dir.path(), "s.csv", b"1;2\n3;4\n")).unwrap_err().to_string();
        assert!(e.contains("line 1: values are separated by `;`"), "{e}");
        let e = load(&write(dir.path(), "t.csv", b"x\ty\n1\t2\n")).unwrap_err().to_string();
        assert!(e.contains("separated by tabs"), "{e}");
    }

    #[test]
    fn missing_file_and_unknown_extension_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(&dir.path().join("nope.npy")).unwrap_err().to_string();
        assert!(e.contains("nope.npy: cannot read the file"), "{e}");
        let e = load(&write(dir.path(), "a.txt", b"1")).unwrap_err().to_string();
        assert!(e.contains("extension must be .npy or .csv"), "{e}");
    }

    #[test]
    fn an_npy_header_that_claims_more_data_than_the_file_holds_is_refused_before_allocating() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = npy(&array![[1.0, 2.0], [3.0, 4.0]]);
        let header_end = bytes.iter().position(|&b| b == b'\n').unwrap();
        let header = String::from_utf8_lossy(&bytes[10..header_end]).into_owned();
        let huge = header.trim_end().replace("(2, 2)", "(100000, 100000)");
        let padded = format!("{huge:<width$}", width = header.len());
        assert_eq!(padded.len(), header.len(), "the test keeps the header length");
        bytes.splice(10..header_end, padded.bytes());
        let e = load(&write(dir.path(), "huge.npy", &bytes)).unwrap_err().to_string();
        assert!(e.contains("declares shape (100000, 100000)") && e.contains("holds 32 bytes of data"), "{e}");
        // A payload cut short is refused the same way.
        let ok = npy(&array![[1.0, 2.0], [3.0, 4.0]]);
        let e = load(&write(dir.path(), "cut.npy", &ok[..ok.len() - 8])).unwrap_err().to_string();
        assert!(e.contains("holds 24 bytes of data"), "{e}");
        let e = load(&write(dir.path(), "junk.npy", b"not numpy at all")).unwrap_err().to_string();
        assert!(e.contains("magic string"), "{e}");
    }

    /// The size check reads the header as the reader does: a second `shape` (the reader keeps the
    /// last) or a dtype the reader refuses only after allocating (`<i8`) cannot slip a huge
    /// declared shape past it, and a header length beyond the file is refused before the reader
    /// allocates it. Each made the process abort ("memory allocation of … bytes failed") or
    /// allocate gigabytes before the check used the reader's header parser.
    #[test]
    fn an_npy_header_is_checked_as_the_reader_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = |dict: &str, payload: usize| {
            let mut header = format!("{dict:<117}\n");
            header.truncate(117);
            header.push('\n');
            let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
            bytes.extend((header.len() as u16).to_le_bytes());
            bytes.extend(header.as_bytes());
            bytes.extend(vec![0u8; payload]);
            bytes
        };
        let twice = file("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'shape': (100000, 100000), }", 16);
        let e = load(&write(dir.path(), "twice.npy", &twice)).unwrap_err().to_string();
        assert!(e.contains("twice.npy") && e.contains("declares shape (100000, 100000)"), "{e}");
        let ints = file("{'descr': '<i8', 'fortran_order': False, 'shape': (100000, 100000), }", 16);
        let e = load(&write(dir.path(), "ints.npy", &ints)).unwrap_err().to_string();
        assert!(e.contains("ints.npy") && e.contains("expected dtype float64 or float32, found <i8"), "{e}");
        let mut long = file("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16);
        long[6] = 2;
        long.splice(8..10, [0x15, 0x41, 0x7a, 0xd0]);
        let e = load(&write(dir.path(), "long.npy", &long)).unwrap_err().to_string();
        assert!(e.contains("long.npy") && e.contains("header length is 3497672981 bytes"), "{e}");
        let unknown = file("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1, }", 16);
        let e = load(&write(dir.path(), "extra.npy", &unknown)).unwrap_err().to_string();
        assert!(e.contains("extra.npy: not a readable .npy file") && e.contains("extra"), "{e}");
    }

    #[test]
    fn a_fifo_or_a_device_as_data_is_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("x.npy");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let e = load(&fifo).unwrap_err().to_string();
        assert!(e.contains("x.npy") && e.contains("not a regular file (a FIFO)"), "{e}");
        let e = digest(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(e.contains("not a regular file (a device)"), "{e}");
    }

    #[test]
    fn digest_reports_shape_and_changes_with_content() {
        let dir = tempfile::tempdir().unwrap();
        let a = digest(&write(dir.path(), "a.csv", b"1,2,3\n4,5,6\n")).unwrap();
        assert_eq!((a.rows, a.cols), (2, 3));
        let b = digest(&write(dir.path(), "b.csv", b"1,2,3\n4,5,7\n")).unwrap();
        assert_ne!(a.blake3, b.blake3);
        assert_eq!(a.blake3.len(), 64);
    }
}
