//! Mermaid flowcharts: `flowchart TD`, Parallel and Map states as subgraphs.

use std::fmt::Write;

use super::graph::{EdgeStyle, Endpoint, Picture, Shape, Status, Statuses};
use crate::definition::Definition;

/// Keywords Mermaid would read as syntax when used as a node id.
const RESERVED: [&str; 10] = [
    "end",
    "graph",
    "subgraph",
    "flowchart",
    "style",
    "class",
    "classDef",
    "click",
    "linkStyle",
    "direction",
];

pub(super) fn render(definition: &Definition, statuses: Option<&Statuses>) -> String {
    let picture = Picture::of(definition);
    let mut out = String::from("flowchart TD\n");
    let mut writer = Writer {
        picture: &picture,
        out: &mut out,
    };
    writer.scope(0, "", 1);
    out.push_str("    classDef marker fill:#27272a,stroke:#27272a\n");
    out.push_str("    classDef succeed fill:#dcfce7,stroke:#16a34a\n");
    out.push_str("    classDef fail fill:#fee2e2,stroke:#dc2626\n");
    let markers = marker_ids(&picture);
    let _ = writeln!(out, "    class {} marker", markers.join(","));
    let (succeed, fail) = terminal_ids(&picture);
    if !succeed.is_empty() {
        let _ = writeln!(out, "    class {} succeed", succeed.join(","));
    }
    if !fail.is_empty() {
        let _ = writeln!(out, "    class {} fail", fail.join(","));
    }
    if let Some(statuses) = statuses {
        status_classes(definition, statuses, &mut out);
    }
    out
}

struct Writer<'a> {
    picture: &'a Picture,
    out: &'a mut String,
}

impl Writer<'_> {
    /// Writes scope `index`, whose start and end markers are named with `prefix`.
    fn scope(&mut self, index: usize, prefix: &str, depth: usize) {
        let indent = "    ".repeat(depth);
        let scope = &self.picture.scopes[index];
        let _ = writeln!(self.out, "{indent}{prefix}__start(( ))");
        if scope.has_end {
            let _ = writeln!(self.out, "{indent}{prefix}__end((( )))");
        }
        for node in &scope.nodes {
            let id = node_id(&node.name);
            let label = label(&node.name, &node.details);
            if node.shape == Shape::Container {
                // Mermaid draws a subgraph's title on one line.
                let mut title = format!("<b>{}</b>", escape(&node.name));
                for detail in &node.details {
                    title.push_str(" · ");
                    title.push_str(&escape(detail));
                }
                let _ = writeln!(self.out, "{indent}subgraph {id}[\"{title}\"]");
                let _ = writeln!(self.out, "{indent}    direction TB");
                for (caption, child) in &node.children {
                    let child_id = format!("{id}_{}", caption.replace(' ', "_"));
                    let _ = writeln!(self.out, "{indent}    subgraph {child_id}[\"{caption}\"]");
                    let _ = writeln!(self.out, "{indent}        direction TB");
                    self.scope(*child, &format!("{child_id}_"), depth + 2);
                    let _ = writeln!(self.out, "{indent}    end");
                }
                let _ = writeln!(self.out, "{indent}end");
                continue;
            }
            let (open, close) = match node.shape {
                Shape::Task => ("(", ")"),
                Shape::Choice => ("{", "}"),
                Shape::Wait => ("[/", "/]"),
                Shape::Pass => ("[[", "]]"),
                Shape::Succeed | Shape::Fail => ("([", "])"),
                Shape::Container => ("[", "]"),
            };
            let _ = writeln!(self.out, "{indent}{id}{open}\"{label}\"{close}");
        }
        for edge in &scope.edges {
            let endpoint = |endpoint: Endpoint| match endpoint {
                Endpoint::Start => format!("{prefix}__start"),
                Endpoint::End => format!("{prefix}__end"),
                Endpoint::State(id) => node_id(
                    scope
                        .nodes
                        .iter()
                        .find(|node| node.id == id)
                        .map_or("?", |node| node.name.as_str()),
                ),
            };
            let from = endpoint(edge.from);
            let to = endpoint(edge.to);
            let arrow = match (edge.style, &edge.label) {
                (EdgeStyle::Solid, None) => "-->".to_owned(),
                (EdgeStyle::Solid, Some(label)) => format!("-->|\"{}\"|", escape(label)),
                (EdgeStyle::Catch, None) => "-.->".to_owned(),
                (EdgeStyle::Catch, Some(label)) => format!("-. \"{}\" .->", escape(label)),
            };
            let _ = writeln!(self.out, "{indent}{from} {arrow} {to}");
        }
    }
}

/// The node id of a state: its name, made safe when it is a Mermaid keyword.
fn node_id(name: &str) -> String {
    if RESERVED.contains(&name) {
        format!("{name}_")
    } else {
        name.to_owned()
    }
}

/// A node's label: the name in bold, the details below it.
fn label(name: &str, details: &[String]) -> String {
    let mut text = format!("<b>{}</b>", escape(name));
    for detail in details {
        text.push_str("<br/>");
        text.push_str(&escape(detail));
    }
    text
}

/// Text made safe inside a quoted Mermaid label (entity codes for quotes and markup).
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '"' => escaped.push_str("#quot;"),
            '<' => escaped.push_str("#lt;"),
            '>' => escaped.push_str("#gt;"),
            '&' => escaped.push_str("#amp;"),
            '#' => escaped.push_str("#35;"),
            '|' => escaped.push_str("#124;"),
            '\n' => escaped.push_str("<br/>"),
            _ => escaped.push(character),
        }
    }
    escaped
}

fn marker_ids(picture: &Picture) -> Vec<String> {
    let mut ids = Vec::new();
    collect_markers(picture, 0, "", &mut ids);
    ids
}

fn collect_markers(picture: &Picture, index: usize, prefix: &str, ids: &mut Vec<String>) {
    let scope = &picture.scopes[index];
    ids.push(format!("{prefix}__start"));
    if scope.has_end {
        ids.push(format!("{prefix}__end"));
    }
    for node in &scope.nodes {
        for (caption, child) in &node.children {
            let child_id = format!("{}_{}", node_id(&node.name), caption.replace(' ', "_"));
            collect_markers(picture, *child, &format!("{child_id}_"), ids);
        }
    }
}

fn terminal_ids(picture: &Picture) -> (Vec<String>, Vec<String>) {
    let mut succeed = Vec::new();
    let mut fail = Vec::new();
    for node in picture.scopes.iter().flat_map(|scope| &scope.nodes) {
        match node.shape {
            Shape::Succeed => succeed.push(node_id(&node.name)),
            Shape::Fail => fail.push(node_id(&node.name)),
            _ => {}
        }
    }
    (succeed, fail)
}

/// `classDef`s for the statuses and a `class` line per status in use.
fn status_classes(definition: &Definition, statuses: &Statuses, out: &mut String) {
    for status in Status::ALL {
        let (fill, stroke) = status.colours();
        let _ = writeln!(
            out,
            "    classDef {} fill:{fill},stroke:{stroke},stroke-width:2px",
            class_name(status)
        );
        let ids: Vec<String> = definition
            .states
            .iter()
            .filter(|state| {
                statuses
                    .get(&state.name)
                    .copied()
                    .unwrap_or(Status::NotReached)
                    == status
            })
            .map(|state| node_id(&state.name))
            .collect();
        if !ids.is_empty() {
            let _ = writeln!(out, "    class {} {}", ids.join(","), class_name(status));
        }
    }
}

/// A Mermaid class name (no dashes, which `class` lines would misread).
fn class_name(status: Status) -> String {
    status.class().replace('-', "_")
}
