//! Golden files: renderings compared with reviewed files in `tests/golden/`. After a deliberate
//! change to a renderer, rewrite them with `UPDATE_GOLDEN=1 cargo test`, then look at each
//! changed file (the SVGs as images) before committing.

use std::path::PathBuf;

use workflow::Definition;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `actual` with the golden file `name`, or rewrites it under `UPDATE_GOLDEN=1`.
///
/// # Panics
///
/// When they differ, or the file cannot be read or written.
pub(crate) fn check(name: &str, actual: &str) {
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        if let Err(error) = std::fs::write(&path, actual) {
            panic!("cannot write {}: {error}", path.display());
        }
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read {}: {error} (UPDATE_GOLDEN=1 writes it)",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{name} differs from its golden file; if the change is intended, run \
         UPDATE_GOLDEN=1 cargo test and review the files"
    );
}

/// The definition in every format, as `workflow::testing::assert_diagrams` checks it:
/// `<Name>.mmd`, `.dot`, `.svg`, `.asl.json`.
pub(crate) fn check_all_formats(definition: &Definition) {
    workflow::testing::assert_diagrams(definition, golden(""));
}
