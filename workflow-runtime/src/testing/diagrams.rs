//! Snapshot tests of a workflow's pictures: its renderings compared with reviewed files, so
//! that a change to the workflow shows in review as a change to its diagram.

use std::path::Path;

use workflow_core::render::{self, Format};
use workflow_core::Definition;

/// The environment variable that makes [`assert_diagrams`] write the files instead.
const UPDATE: &str = "UPDATE_GOLDEN";

/// Compares `definition`'s renderings in every [`Format`] with the reviewed files
/// `<dir>/<Name>.mmd`, `.dot`, `.svg` and `.asl.json`. With `UPDATE_GOLDEN=1` in the
/// environment it writes them instead: run the tests so once after a deliberate change, then
/// review the files (the SVG as an image) before committing them.
///
/// ```no_run
/// # use workflow::prelude::*;
/// # #[step] async fn charge(cents: u64) -> u64 { cents }
/// # workflow! { Pay: Standard<u64, u64> { start Charge; Charge: task charge -> end; } }
/// #[test]
/// fn the_workflow_looks_as_reviewed() {
///     let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/diagrams");
///     workflow::testing::assert_diagrams(Pay::definition(), dir);
/// }
/// ```
///
/// # Panics
///
/// When a rendering differs from its file, or a file cannot be read or written; the message
/// names the file.
#[track_caller]
pub fn assert_diagrams(definition: &Definition, dir: impl AsRef<Path>) {
    for format in Format::ALL {
        let name = format!("{}.{}", definition.name, format.extension());
        assert_file(
            &dir.as_ref().join(name),
            &render::render(definition, format),
        );
    }
}

/// Compares `actual` with the file at `path`, or writes it under `UPDATE_GOLDEN=1`.
#[track_caller]
fn assert_file(path: &Path, actual: &str) {
    if std::env::var_os(UPDATE).is_some() {
        if let Some(parent) = path.parent() {
            if let Err(error) = std::fs::create_dir_all(parent) {
                panic!("cannot create {}: {error}", parent.display());
            }
        }
        if let Err(error) = std::fs::write(path, actual) {
            panic!("cannot write {}: {error}", path.display());
        }
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|error| {
        panic!(
            "cannot read {}: {error} ({UPDATE}=1 writes it)",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs from the rendering; if the change is intended, run the tests with \
         {UPDATE}=1 and review the file",
        path.display()
    );
}
