//! LAPACK reports illegal arguments through `xerbla_`, which in OpenBLAS prints to standard output.
//! linres replaces it (src/blas.rs), so nothing the library prints can reach stdout, where it would
//! break `--json` output. The test calls DLASCL with an illegal argument in a child process and
//! reads that child's stdout.

use std::ffi::{c_char, c_int};
use std::process::Command;

use linres as _;

unsafe extern "C" {
    fn dlascl_(
        kind: *const c_char,
        kl: *const c_int,
        ku: *const c_int,
        cfrom: *const f64,
        cto: *const f64,
        m: *const c_int,
        n: *const c_int,
        a: *mut f64,
        lda: *const c_int,
        info: *mut c_int,
        kind_len: usize,
    );
}

const CHILD: &str = "LINRES_TEST_CALL_DLASCL";

#[test]
fn lapack_argument_errors_print_nothing_on_stdout() {
    if std::env::var_os(CHILD).is_some() {
        let (zero, one, two) = (0, 1, 2);
        let (cfrom, cto) = (0.0f64, 1.0f64); // cfrom = 0 is illegal (parameter 4)
        let mut a = [1.0f64; 4];
        let mut info = 0;
        // SAFETY: every pointer is valid for the call; the kind is one byte long.
        unsafe {
            dlascl_(c"G".as_ptr(), &zero, &zero, &cfrom, &cto, &two, &two, a.as_mut_ptr(), &two, &mut info, one);
        }
        println!("dlascl info {info}");
        return;
    }
    // The child runs this test alone: its name in the test binary, module path included.
    let exe = std::env::current_exe().unwrap();
    let name = "lapack_quiet::lapack_argument_errors_print_nothing_on_stdout";
    let o =
        Command::new(exe).args(["--exact", name, "--nocapture", "--test-threads=1"]).env(CHILD, "1").output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("dlascl info -4"), "LAPACK still reports the error through info: {out}");
    assert!(!out.contains("On entry to"), "LAPACK printed on stdout: {out}");
}
