//! Graphviz DOT: Parallel and Map states as clusters holding one cluster per branch.

use std::fmt::Write;

use super::graph::{EdgeStyle, Endpoint, Picture, Shape, Status, Statuses};
use crate::definition::Definition;

pub(super) fn render(definition: &Definition, statuses: Option<&Statuses>) -> String {
    let picture = Picture::of(definition);
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", quote(&definition.name));
    out.push_str("    compound=true;\n    rankdir=TB;\n    nodesep=0.4;\n    ranksep=0.5;\n");
    out.push_str("    graph [fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str("    node [fontname=\"Helvetica\", fontsize=11, shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", color=\"#52525b\"];\n");
    out.push_str("    edge [fontname=\"Helvetica\", fontsize=10, color=\"#52525b\"];\n");
    let mut writer = Writer {
        picture: &picture,
        statuses,
        out: &mut out,
    };
    writer.scope(0, "", 1);
    out.push_str("}\n");
    out
}

struct Writer<'a> {
    picture: &'a Picture,
    statuses: Option<&'a Statuses>,
    out: &'a mut String,
}

impl Writer<'_> {
    /// Writes scope `index`, whose start and end markers are named with `prefix`.
    fn scope(&mut self, index: usize, prefix: &str, depth: usize) {
        let indent = "    ".repeat(depth);
        let scope = &self.picture.scopes[index];
        let marker =
            "shape=circle, style=filled, fillcolor=\"#27272a\", color=\"#27272a\", label=\"\"";
        let _ = writeln!(
            self.out,
            "{indent}\"{prefix}__start\" [{marker}, width=0.2];"
        );
        if scope.has_end {
            let _ = writeln!(
                self.out,
                "{indent}\"{prefix}__end\" [{marker}, shape=doublecircle, width=0.15];"
            );
        }
        for node in &scope.nodes {
            let (fill, stroke) = self.colours(&node.name, node.shape);
            let label = label(&node.name, &node.details);
            if node.shape == Shape::Container {
                // The container is a cluster: edges come in at its header node and leave from
                // an invisible exit node below its branches.
                let _ = writeln!(
                    self.out,
                    "{indent}subgraph {} {{",
                    quote(&format!("cluster_{}", node.name))
                );
                let _ = writeln!(
                    self.out,
                    "{indent}    style=\"rounded,filled\"; fillcolor=\"{fill}\"; color=\"{stroke}\"; label=\"\";"
                );
                let _ = writeln!(
                    self.out,
                    "{indent}    {} [label=<{label}>, shape=plain, style=\"\"];",
                    quote(&node.name)
                );
                for (caption, child) in &node.children {
                    let child_prefix = format!("{}/{caption}/", node.name);
                    let _ = writeln!(
                        self.out,
                        "{indent}    subgraph {} {{",
                        quote(&format!("cluster_{child_prefix}"))
                    );
                    let _ = writeln!(
                        self.out,
                        "{indent}        style=\"dashed,rounded\"; color=\"#a1a1aa\"; fillcolor=\"#ffffff\"; label={};",
                        quote(caption)
                    );
                    self.scope(*child, &child_prefix, depth + 2);
                    let _ = writeln!(self.out, "{indent}    }}");
                    let _ = writeln!(
                        self.out,
                        "{indent}    {} -> \"{child_prefix}__start\" [style=invis];",
                        quote(&node.name)
                    );
                    let child_scope = &self.picture.scopes[*child];
                    let lasts: Vec<String> = if child_scope.has_end {
                        vec![format!("{child_prefix}__end")]
                    } else {
                        child_scope.nodes.iter().map(|n| n.name.clone()).collect()
                    };
                    for last in lasts {
                        let _ = writeln!(
                            self.out,
                            "{indent}    {} -> {} [style=invis];",
                            quote(&last),
                            quote(&exit_node(&node.name))
                        );
                    }
                }
                let _ = writeln!(
                    self.out,
                    "{indent}    {} [shape=point, style=invis, width=0, height=0, label=\"\"];",
                    quote(&exit_node(&node.name))
                );
                let _ = writeln!(self.out, "{indent}}}");
                continue;
            }
            let shape = match node.shape {
                Shape::Task | Shape::Container => "box",
                Shape::Choice => "diamond",
                Shape::Wait => "parallelogram",
                Shape::Pass => "box3d",
                Shape::Succeed | Shape::Fail => "oval",
            };
            let _ = writeln!(
                self.out,
                "{indent}{} [shape={shape}, label=<{label}>, fillcolor=\"{fill}\", color=\"{stroke}\"];",
                quote(&node.name)
            );
        }
        for edge in &scope.edges {
            let mut attributes = Vec::new();
            let mut endpoint = |endpoint: Endpoint, head: bool| match endpoint {
                Endpoint::Start => quote(&format!("{prefix}__start")),
                Endpoint::End => quote(&format!("{prefix}__end")),
                Endpoint::State(id) => {
                    let node = scope.nodes.iter().find(|node| node.id == id);
                    let name = node.map_or("?", |node| node.name.as_str());
                    if node.is_some_and(|node| node.shape == Shape::Container) {
                        let side = if head { "lhead" } else { "ltail" };
                        attributes.push(format!("{side}={}", quote(&format!("cluster_{name}"))));
                        if !head {
                            return quote(&exit_node(name));
                        }
                    }
                    quote(name)
                }
            };
            let from = endpoint(edge.from, false);
            let to = endpoint(edge.to, true);
            if let Some(text) = &edge.label {
                attributes.push(format!("label={}", quote(text)));
            }
            if edge.style == EdgeStyle::Catch {
                attributes.push("style=dashed".to_owned());
                attributes.push("color=\"#ea580c\"".to_owned());
                attributes.push("fontcolor=\"#c2410c\"".to_owned());
            }
            let attributes = if attributes.is_empty() {
                String::new()
            } else {
                format!(" [{}]", attributes.join(", "))
            };
            let _ = writeln!(self.out, "{indent}{from} -> {to}{attributes};");
        }
    }

    fn colours(&self, name: &str, shape: Shape) -> (&'static str, &'static str) {
        if let Some(statuses) = self.statuses {
            return statuses
                .get(name)
                .copied()
                .unwrap_or(Status::NotReached)
                .colours();
        }
        match shape {
            Shape::Succeed => Status::Succeeded.colours(),
            Shape::Fail => Status::Failed.colours(),
            Shape::Container => ("#fafafa", "#52525b"),
            Shape::Choice | Shape::Wait | Shape::Pass => ("#f4f4f5", "#52525b"),
            Shape::Task => ("#ffffff", "#52525b"),
        }
    }
}

/// The invisible node at the bottom of a container's cluster that its outgoing edges leave.
fn exit_node(container: &str) -> String {
    format!("{container}/__exit")
}

/// An HTML-like label: the name in bold, the details below it.
fn label(name: &str, details: &[String]) -> String {
    let mut text = format!("<b>{}</b>", escape_html(name));
    for detail in details {
        let _ = write!(
            text,
            "<br/><font point-size=\"10\">{}</font>",
            escape_html(detail)
        );
    }
    text
}

/// A DOT quoted string.
fn quote(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}

pub(super) fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
