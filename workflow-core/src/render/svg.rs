//! Standalone SVG, laid out in Rust: no external program, no script, no style sheet (every
//! colour is an attribute, so the picture can sit inline in an HTML page without leaking
//! styles into it, as it does in rustdoc).

use std::fmt::Write;

use super::graph::{EdgeStyle, Picture, Shape, Status, Statuses};
use super::layout::{
    self, text_width, EdgeLayout, Label, Point, ScopeLayout, Vertex, CAPTION, DETAIL_LINE,
    LABEL_LINE, NAME_LINE, PADDING,
};
use crate::definition::Definition;

const MARGIN: f64 = 16.0;
const HEADER: f64 = 28.0;
const LEGEND: f64 = 30.0;
const INK: &str = "#27272a";
const LINE: &str = "#52525b";
const CATCH: &str = "#ea580c";
const MUTED: &str = "#52525b";

pub(super) fn render(definition: &Definition, statuses: Option<&Statuses>) -> String {
    let picture = Picture::of(definition);
    let scope = layout::layout(&picture, 0);
    let title = format!("{} · {}", definition.name, definition.mode);
    let legend_width = Status::ALL
        .iter()
        .map(|status| text_width(status.label(), 6.3) + 32.0)
        .sum::<f64>();
    let mut content_width = scope.width.max(text_width(&title, 7.6));
    if statuses.is_some() {
        content_width = content_width.max(legend_width);
    }
    let width = (content_width + MARGIN * 2.0).ceil();
    let legend = if statuses.is_some() { LEGEND } else { 0.0 };
    let height = (scope.height + HEADER + legend + MARGIN * 2.0).ceil();
    let id = format!("wf-{}", sanitize(&definition.name));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"Helvetica, Arial, sans-serif\" role=\"img\" aria-labelledby=\"{id}-title\">"
    );
    let _ = writeln!(out, "<title id=\"{id}-title\">{}</title>", escape(&title));
    let _ = writeln!(out, "<defs>");
    for (name, colour) in [("arrow", LINE), ("catch", CATCH)] {
        let _ = writeln!(
            out,
            "<marker id=\"{id}-{name}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{colour}\"/></marker>"
        );
    }
    let _ = writeln!(out, "</defs>");
    let _ = writeln!(
        out,
        "<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    let _ = writeln!(
        out,
        "<text x=\"{MARGIN}\" y=\"{}\" font-size=\"13\" font-weight=\"bold\" fill=\"{INK}\">{}</text>",
        MARGIN + 6.0,
        escape(&title)
    );
    let mut writer = Writer {
        picture: &picture,
        statuses,
        id: &id,
        out: &mut out,
    };
    writer.scope(
        0,
        &scope,
        Point {
            x: MARGIN,
            y: MARGIN + HEADER,
        },
    );
    if statuses.is_some() {
        legend_row(&mut out, MARGIN, height - MARGIN - 14.0);
    }
    out.push_str("</svg>\n");
    out
}

struct Writer<'a> {
    picture: &'a Picture,
    statuses: Option<&'a Statuses>,
    id: &'a str,
    out: &'a mut String,
}

impl Writer<'_> {
    fn scope(&mut self, index: usize, layout: &ScopeLayout, origin: Point) {
        let _ = writeln!(
            self.out,
            "<g transform=\"translate({},{})\">",
            fmt(origin.x),
            fmt(origin.y)
        );
        let scope = &self.picture.scopes[index];
        // Containers first, so the edges of their own scope are drawn over them.
        for (vertex, centre, width, height) in &layout.boxes {
            if let Vertex::Node(node_index) = vertex {
                let node = &scope.nodes[*node_index];
                if node.shape == Shape::Container {
                    let top_left = Point {
                        x: centre.x - width / 2.0,
                        y: centre.y - height / 2.0,
                    };
                    self.container(node_index, index, layout, top_left, *width, *height);
                }
            }
        }
        for edge in &layout.edges {
            self.edge(edge);
        }
        for (vertex, centre, width, height) in &layout.boxes {
            match vertex {
                Vertex::Start => {
                    let _ = writeln!(
                        self.out,
                        "<circle cx=\"{}\" cy=\"{}\" r=\"7\" fill=\"{INK}\"/>",
                        fmt(centre.x),
                        fmt(centre.y)
                    );
                }
                Vertex::End => {
                    let _ = writeln!(
                        self.out,
                        "<circle cx=\"{x}\" cy=\"{y}\" r=\"7\" fill=\"#ffffff\" stroke=\"{INK}\" stroke-width=\"1.5\"/><circle cx=\"{x}\" cy=\"{y}\" r=\"4\" fill=\"{INK}\"/>",
                        x = fmt(centre.x),
                        y = fmt(centre.y)
                    );
                }
                Vertex::Node(node_index) => {
                    let node = &scope.nodes[*node_index];
                    if node.shape != Shape::Container {
                        self.leaf(*node_index, index, *centre, *width, *height);
                    }
                }
                Vertex::Bend => {}
            }
        }
        for edge in &layout.edges {
            if let Some(label) = &edge.label {
                self.label(label, edge.style);
            }
        }
        let _ = writeln!(self.out, "</g>");
    }

    fn colours(&self, name: &str, shape: Shape) -> (&'static str, &'static str, f64) {
        if let Some(statuses) = self.statuses {
            let status = statuses.get(name).copied().unwrap_or(Status::NotReached);
            let (fill, stroke) = status.colours();
            let width = if status == Status::NotReached {
                1.0
            } else {
                2.0
            };
            return (fill, stroke, width);
        }
        let (fill, stroke) = match shape {
            Shape::Succeed => Status::Succeeded.colours(),
            Shape::Fail => Status::Failed.colours(),
            Shape::Container => ("#fafafa", LINE),
            Shape::Choice | Shape::Wait | Shape::Pass => ("#f4f4f5", LINE),
            Shape::Task => ("#ffffff", LINE),
        };
        (fill, stroke, 1.2)
    }

    fn leaf(&mut self, node_index: usize, scope: usize, centre: Point, width: f64, height: f64) {
        let node = &self.picture.scopes[scope].nodes[node_index];
        let (fill, stroke, stroke_width) = self.colours(&node.name, node.shape);
        let (left, top) = (centre.x - width / 2.0, centre.y - height / 2.0);
        let paint = format!("fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{stroke_width}\"");
        // In an execution view, each state says its status, for tools and tests to read.
        let status = self.statuses.map(|statuses| {
            statuses
                .get(&node.name)
                .copied()
                .unwrap_or(Status::NotReached)
        });
        let _ = match status {
            Some(status) => write!(
                self.out,
                "<g data-state=\"{}\" data-status=\"{}\"><title>{}</title>",
                escape(&node.name),
                status.label(),
                escape(&node.name)
            ),
            None => write!(self.out, "<g><title>{}</title>", escape(&node.name)),
        };
        let _ = match node.shape {
            Shape::Choice => writeln!(
                self.out,
                "<polygon points=\"{},{} {},{} {},{} {},{}\" {paint}/>",
                fmt(centre.x), fmt(top), fmt(left + width), fmt(centre.y),
                fmt(centre.x), fmt(top + height), fmt(left), fmt(centre.y)
            ),
            Shape::Wait => writeln!(
                self.out,
                "<polygon points=\"{},{} {},{} {},{} {},{}\" {paint}/>",
                fmt(left + 8.0), fmt(top), fmt(left + width), fmt(top),
                fmt(left + width - 8.0), fmt(top + height), fmt(left), fmt(top + height)
            ),
            Shape::Pass => writeln!(
                self.out,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"2\" {paint}/><path d=\"M{l},{y} v{h} M{r},{y} v{h}\" stroke=\"{stroke}\" stroke-width=\"1\"/>",
                x = fmt(left), y = fmt(top), w = fmt(width), h = fmt(height),
                l = fmt(left + 5.0), r = fmt(left + width - 5.0)
            ),
            Shape::Succeed | Shape::Fail => writeln!(
                self.out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" {paint}/>",
                fmt(left), fmt(top), fmt(width), fmt(height), fmt(height / 2.0)
            ),
            Shape::Task | Shape::Container => writeln!(
                self.out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" {paint}/>",
                fmt(left), fmt(top), fmt(width), fmt(height)
            ),
        };
        let text_height = NAME_LINE + DETAIL_LINE * node.details.len() as f64;
        self.text_block(
            &node.name,
            &node.details,
            centre.x,
            centre.y - text_height / 2.0,
        );
        let _ = writeln!(self.out, "</g>");
    }

    /// The name (bold) and detail lines, centred on `x`, starting at `top`.
    fn text_block(&mut self, name: &str, details: &[String], x: f64, top: f64) {
        let _ = writeln!(
            self.out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\" font-weight=\"bold\" fill=\"{INK}\">{}</text>",
            fmt(x),
            fmt(top + 12.0),
            escape(name)
        );
        for (line, detail) in details.iter().enumerate() {
            let style = if detail.starts_with("retry ") || detail.starts_with("on ") {
                " font-style=\"italic\""
            } else {
                ""
            };
            let _ = writeln!(
                self.out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\"{style} fill=\"{MUTED}\">{}</text>",
                fmt(x),
                fmt(top + NAME_LINE + DETAIL_LINE * line as f64 + 11.0),
                escape(detail)
            );
        }
    }

    fn container(
        &mut self,
        node_index: &usize,
        scope: usize,
        layout: &ScopeLayout,
        top_left: Point,
        width: f64,
        height: f64,
    ) {
        let node = &self.picture.scopes[scope].nodes[*node_index];
        let (fill, stroke, stroke_width) = self.colours(&node.name, node.shape);
        let _ = writeln!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{stroke_width}\"/>",
            fmt(top_left.x), fmt(top_left.y), fmt(width), fmt(height)
        );
        self.text_block(
            &node.name.clone(),
            &node.details.clone(),
            top_left.x + width / 2.0,
            top_left.y + PADDING,
        );
        let children = layout
            .boxes
            .iter()
            .position(|(vertex, ..)| *vertex == Vertex::Node(*node_index))
            .map(|_| layout.children[*node_index].clone())
            .unwrap_or_default();
        for ((caption, origin, child), (_, child_index)) in
            children.iter().zip(&node.children.clone())
        {
            let (x, y) = (top_left.x + origin.x, top_left.y + origin.y);
            let _ = writeln!(
                self.out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"#ffffff\" stroke=\"#a1a1aa\" stroke-dasharray=\"4 3\"/>",
                fmt(x - PADDING), fmt(y - CAPTION), fmt(child.width + PADDING * 2.0), fmt(child.height + CAPTION + PADDING)
            );
            let _ = writeln!(
                self.out,
                "<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#71717a\">{}</text>",
                fmt(x - PADDING + 6.0),
                fmt(y - CAPTION + 12.0),
                escape(caption)
            );
            self.scope(*child_index, child, Point { x, y });
        }
    }

    fn edge(&mut self, edge: &EdgeLayout) {
        let Some(first) = edge.points.first() else {
            return;
        };
        let mut d = format!("M{},{}", fmt(first.x), fmt(first.y));
        if edge.looped {
            for point in &edge.points[1..] {
                let _ = write!(d, " L{},{}", fmt(point.x), fmt(point.y));
            }
        } else {
            for pair in edge.points.windows(2) {
                let (p, q) = (pair[0], pair[1]);
                let bend = (q.y - p.y) / 2.0;
                let _ = write!(
                    d,
                    " C{},{} {},{} {},{}",
                    fmt(p.x),
                    fmt(p.y + bend),
                    fmt(q.x),
                    fmt(q.y - bend),
                    fmt(q.x),
                    fmt(q.y)
                );
            }
        }
        let (colour, dash, marker) = match edge.style {
            EdgeStyle::Solid => (LINE, "", "arrow"),
            EdgeStyle::Catch => (CATCH, " stroke-dasharray=\"5 4\"", "catch"),
        };
        let _ = writeln!(
            self.out,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.3\"{dash} marker-end=\"url(#{}-{marker})\"/>",
            self.id
        );
    }

    fn label(&mut self, label: &Label, style: EdgeStyle) {
        let colour = match style {
            EdgeStyle::Solid => MUTED,
            EdgeStyle::Catch => "#c2410c",
        };
        let (left, top) = (label.left(), label.at.y - label.height() / 2.0);
        let _ = writeln!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.9\"/>",
            fmt(left), fmt(top), fmt(label.width()), fmt(label.height())
        );
        for (index, line) in label.lines.iter().enumerate() {
            let _ = writeln!(
                self.out,
                "<text x=\"{}\" y=\"{}\" font-size=\"10.5\" fill=\"{colour}\">{}</text>",
                fmt(left + 3.0),
                fmt(top + 12.0 + LABEL_LINE * index as f64),
                escape(line)
            );
        }
    }
}

fn legend_row(out: &mut String, left: f64, y: f64) {
    let mut x = left;
    for status in Status::ALL {
        let (fill, stroke) = status.colours();
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"14\" rx=\"3\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\"/><text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{INK}\">{}</text>",
            fmt(x), fmt(y - 7.0), fmt(x + 19.0), fmt(y + 4.0), status.label()
        );
        x += text_width(status.label(), 6.3) + 32.0;
    }
}

/// A coordinate with at most one decimal, for compact and stable output.
fn fmt(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

/// A name made safe in an XML id.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
