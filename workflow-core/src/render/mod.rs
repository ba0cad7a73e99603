//! Pictures of a workflow, drawn from its [`Definition`] alone: Mermaid, Graphviz DOT,
//! standalone SVG and Amazon States Language JSON, plus the execution view (each state
//! coloured by how an execution went through it) in SVG and Mermaid.
//!
//! Every format draws the same way: a start marker; task boxes with the state's and step's
//! names; choice diamonds with their conditions on the branches; Parallel and Map states as
//! containers around their branches; waits with their duration; succeed and fail terminals;
//! retries on their state ("retry ×3 backoff 2.0"); catch edges dashed, labelled with the
//! errors they catch.
//!
//! ```
//! use workflow::render::{self, Format};
//! # use workflow::prelude::*;
//! # #[step] async fn charge(cents: u64) -> u64 { cents }
//! # workflow! { Checkout: Express<u64, u64> { start Charge; Charge: task charge -> end; } }
//!
//! let svg = render::svg(Checkout::definition());
//! let mermaid = render::render(Checkout::definition(), Format::Mermaid);
//! assert!(svg.starts_with("<svg") && mermaid.contains("Charge"));
//! ```

mod asl;
mod dot;
mod graph;
mod layout;
mod mermaid;
mod svg;

use std::fmt;
use std::str::FromStr;

pub use asl::{Asl, DEFAULT_RESOURCE, DEFAULT_STATE_MACHINE};
pub use graph::{Status, Statuses};

use crate::definition::Definition;

/// A Mermaid flowchart (`flowchart TD`).
pub fn mermaid(definition: &Definition) -> String {
    mermaid::render(definition, None)
}

/// A Graphviz DOT digraph, Parallel and Map states as clusters.
pub fn dot(definition: &Definition) -> String {
    dot::render(definition, None)
}

/// A standalone SVG image, laid out without any external program.
pub fn svg(definition: &Definition) -> String {
    svg::render(definition, None)
}

/// Amazon States Language JSON, with [`Asl::new`]'s resources.
pub fn asl(definition: &Definition) -> String {
    Asl::new().render(definition)
}

/// The SVG of an execution: each state coloured by its status (states missing from
/// `statuses` were not reached), with a legend.
pub fn svg_execution(definition: &Definition, statuses: &Statuses) -> String {
    svg::render(definition, Some(statuses))
}

/// The Mermaid flowchart of an execution: each state in the class of its status.
pub fn mermaid_execution(definition: &Definition, statuses: &Statuses) -> String {
    mermaid::render(definition, Some(statuses))
}

/// The DOT digraph of an execution: each state coloured by its status.
pub fn dot_execution(definition: &Definition, statuses: &Statuses) -> String {
    dot::render(definition, Some(statuses))
}

/// A format to render a definition in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// [`mermaid`].
    Mermaid,
    /// [`dot`].
    Dot,
    /// [`svg`].
    Svg,
    /// [`asl`].
    Asl,
}

impl Format {
    /// Every format, in the order `--diagram` help lists them.
    pub const ALL: [Format; 4] = [Format::Mermaid, Format::Dot, Format::Svg, Format::Asl];

    /// The format's name, as [`FromStr`] reads it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Mermaid => "mermaid",
            Format::Dot => "dot",
            Format::Svg => "svg",
            Format::Asl => "asl",
        }
    }

    /// The format asked for by `--diagram FORMAT` (or `--diagram=FORMAT`) among command-line
    /// arguments, so a program can print its workflow's picture instead of running it.
    ///
    /// ```
    /// use workflow::render::Format;
    ///
    /// let args = ["order", "--diagram", "svg"].map(String::from);
    /// assert_eq!(Format::from_args(args), Ok(Some(Format::Svg)));
    /// assert_eq!(Format::from_args(["order".to_owned()]), Ok(None));
    /// ```
    pub fn from_args<I: IntoIterator<Item = String>>(
        args: I,
    ) -> Result<Option<Format>, UnknownFormat> {
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--diagram" {
                let value = args.next().unwrap_or_default();
                return value.parse().map(Some);
            }
            if let Some(value) = arg.strip_prefix("--diagram=") {
                return value.parse().map(Some);
            }
        }
        Ok(None)
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Mermaid => "mmd",
            Format::Dot => "dot",
            Format::Svg => "svg",
            Format::Asl => "asl.json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is none of `mermaid`, `dot`, `svg`, `asl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown diagram format `{}`: expected one of mermaid, dot, svg, asl",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|format| format.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| UnknownFormat(text.to_owned()))
    }
}

/// Prints `definition` in the format `--diagram FORMAT` (or `--diagram=FORMAT`) asks for among
/// the program's arguments, and says whether it did: a program shows its workflow's picture
/// instead of running when asked to.
///
/// ```no_run
/// # use workflow::prelude::*;
/// # #[step] async fn charge(cents: u64) -> u64 { cents }
/// # workflow! { Checkout: Express<u64, u64> { start Charge; Charge: task charge -> end; } }
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // `--diagram mermaid|dot|svg|asl` prints the workflow's picture instead of running it.
/// if workflow::render::print_if_requested(Checkout::definition())? {
///     return Ok(());
/// }
/// // ... run the workflow
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// When the format asked for is not one of [`Format::ALL`].
pub fn print_if_requested(definition: &Definition) -> Result<bool, UnknownFormat> {
    match Format::from_args(std::env::args())? {
        Some(format) => {
            print!("{}", render(definition, format));
            Ok(true)
        }
        None => Ok(false),
    }
}

/// The definition in `format` (ASL with [`Asl::new`]'s resources).
pub fn render(definition: &Definition, format: Format) -> String {
    match format {
        Format::Mermaid => mermaid(definition),
        Format::Dot => dot(definition),
        Format::Svg => svg(definition),
        Format::Asl => asl(definition),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_definitions_render_without_panicking() {
        use crate::build;
        use crate::Mode;
        // A Parallel state that is its own branch, a catcher and a start pointing nowhere.
        let looped = build::parallel_state(
            "Loop",
            None,
            vec![(0, vec![0]), (7, vec![0, 9])],
            Some(42),
            Vec::new(),
            vec![build::catcher(vec!["States.ALL".to_owned()], 99)],
        );
        let definition = build::definition(
            "Corrupt",
            Mode::Standard,
            None,
            None,
            "",
            "",
            5,
            vec![looped],
        );
        let statuses = Statuses::from([("Loop".to_owned(), Status::Failed)]);
        for format in Format::ALL {
            assert!(!render(&definition, format).is_empty(), "{format}");
        }
        assert!(svg_execution(&definition, &statuses).contains("<svg"));
        assert!(mermaid_execution(&definition, &statuses).starts_with("flowchart"));
        assert!(dot_execution(&definition, &statuses).starts_with("digraph"));
        assert!(definition
            .raisable_errors(crate::definition::StateId(0))
            .is_empty());
    }

    #[test]
    fn formats_parse_from_their_names_and_arguments() {
        assert_eq!("SVG".parse::<Format>(), Ok(Format::Svg));
        assert_eq!(
            "png".parse::<Format>().unwrap_err().to_string(),
            "unknown diagram format `png`: expected one of mermaid, dot, svg, asl"
        );
        let args = |list: &[&str]| list.iter().map(|arg| (*arg).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            Format::from_args(args(&["x", "--diagram=dot"])),
            Ok(Some(Format::Dot))
        );
        assert_eq!(
            Format::from_args(args(&["x", "--diagram"])),
            Err(UnknownFormat(String::new()))
        );
    }
}
