//! A layered layout of a [`Picture`], for the SVG renderer: each scope's states in layers
//! from top to bottom (longest path from the start), ordered to reduce crossings, placed as
//! close to their neighbours as spacing allows; containers sized around their scopes.

mod layers;

use super::graph::{EdgeStyle, Endpoint, Picture, Shape};
use layers::{assign_layers, Layered, RouteEnds};

/// Average glyph widths of the fonts used, in pixels (Helvetica-like metrics, rounded up).
const NAME_CHAR: f64 = 7.4;
const DETAIL_CHAR: f64 = 6.3;
pub(super) const NAME_LINE: f64 = 16.0;
pub(super) const DETAIL_LINE: f64 = 14.0;
pub(super) const PADDING: f64 = 10.0;
pub(super) const NODE_GAP: f64 = 28.0;
pub(super) const LAYER_GAP: f64 = 46.0;
pub(super) const LABELLED_LAYER_GAP: f64 = 62.0;
const MARKER: f64 = 14.0;
const LANE_GAP: f64 = 16.0;
pub(super) const CAPTION: f64 = 18.0;

/// A point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Point {
    pub(super) x: f64,
    pub(super) y: f64,
}

/// What sits at a vertex of a scope's layout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Vertex {
    Start,
    End,
    /// The node at this index of the scope's nodes.
    Node(usize),
    /// A bend of a long edge.
    Bend,
}

/// A scope laid out: coordinates relative to its top-left corner.
#[derive(Debug, Clone)]
pub(super) struct ScopeLayout {
    pub(super) width: f64,
    pub(super) height: f64,
    /// The box of each vertex: `(vertex, centre, width, height)`.
    pub(super) boxes: Vec<(Vertex, Point, f64, f64)>,
    /// For each node of the scope, its children: `(caption, top-left, layout)`.
    pub(super) children: Vec<Vec<(String, Point, ScopeLayout)>>,
    pub(super) edges: Vec<EdgeLayout>,
}

/// An edge laid out.
#[derive(Debug, Clone)]
pub(super) struct EdgeLayout {
    /// The points it passes through: drawn as smooth curves when `looped` is false, as a
    /// polyline with rounded corners when it goes back up around the right side.
    pub(super) points: Vec<Point>,
    pub(super) looped: bool,
    pub(super) style: EdgeStyle,
    pub(super) label: Option<Label>,
}

/// An edge's label: lines of text beside a point of the edge.
#[derive(Debug, Clone)]
pub(super) struct Label {
    pub(super) lines: Vec<String>,
    /// The point the label is beside (vertically centred on it).
    pub(super) at: Point,
    pub(super) anchor: Anchor,
}

/// Which side of its point a label's text is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Anchor {
    /// Starts at the point (to its right).
    Start,
    /// Ends at the point (to its left).
    End,
}

/// The height of one line of an edge label.
pub(super) const LABEL_LINE: f64 = 13.0;

impl Label {
    fn new(text: &str, at: Point, anchor: Anchor) -> Label {
        Label {
            lines: text.lines().map(str::to_owned).collect(),
            at,
            anchor,
        }
    }

    pub(super) fn width(&self) -> f64 {
        self.lines
            .iter()
            .map(|line| text_width(line, DETAIL_CHAR))
            .fold(0.0, f64::max)
            + 6.0
    }

    pub(super) fn height(&self) -> f64 {
        LABEL_LINE * self.lines.len() as f64 + 3.0
    }

    /// The left edge of the label's box.
    pub(super) fn left(&self) -> f64 {
        match self.anchor {
            Anchor::Start => self.at.x + 4.0,
            Anchor::End => self.at.x - 4.0 - self.width(),
        }
    }
}

/// The size of the text block of a name and details.
pub(super) fn text_size(name: &str, details: &[String]) -> (f64, f64) {
    let width = details
        .iter()
        .map(|detail| text_width(detail, DETAIL_CHAR))
        .fold(text_width(name, NAME_CHAR), f64::max);
    (width, NAME_LINE + DETAIL_LINE * details.len() as f64)
}

pub(super) fn text_width(text: &str, per_char: f64) -> f64 {
    text.chars().count() as f64 * per_char
}

/// Lays out scope `index` of `picture`.
pub(super) fn layout(picture: &Picture, index: usize) -> ScopeLayout {
    let scope = &picture.scopes[index];
    // Vertices: start, the nodes, the end marker.
    let mut vertices = vec![Vertex::Start];
    vertices.extend((0..scope.nodes.len()).map(Vertex::Node));
    if scope.has_end {
        vertices.push(Vertex::End);
    }
    let mut sizes = Vec::new();
    let mut children = Vec::new();
    for vertex in &vertices {
        match *vertex {
            Vertex::Node(node_index) => {
                let node = &scope.nodes[node_index];
                let (text_w, text_h) = text_size(&node.name, &node.details);
                let mut laid_children = Vec::new();
                let size = match node.shape {
                    Shape::Choice => (text_w * 1.5 + 36.0, text_h + 40.0),
                    Shape::Container => {
                        let mut x = PADDING;
                        let top = text_h + PADDING * 2.0;
                        let mut tallest: f64 = 0.0;
                        for (caption, child) in &node.children {
                            let child_layout = layout(picture, *child);
                            let width = child_layout.width.max(text_width(caption, DETAIL_CHAR))
                                + PADDING * 2.0;
                            let origin = Point {
                                x: x + PADDING,
                                y: top + CAPTION,
                            };
                            tallest = tallest.max(child_layout.height + CAPTION + PADDING);
                            laid_children.push((caption.clone(), origin, child_layout));
                            x += width + PADDING;
                        }
                        let width = x.max(text_w + PADDING * 2.0);
                        // Centre the children when the header is wider than they are.
                        let spare = (width - x) / 2.0;
                        for (_, origin, _) in &mut laid_children {
                            origin.x += spare;
                        }
                        (width, top + tallest + PADDING)
                    }
                    _ => ((text_w + PADDING * 2.4).max(96.0), text_h + PADDING * 2.0),
                };
                children.push(laid_children);
                sizes.push(size);
            }
            _ => sizes.push((MARKER, MARKER)),
        }
    }
    let vertex_of = |endpoint: Endpoint| -> Option<usize> {
        match endpoint {
            Endpoint::Start => Some(0),
            Endpoint::End => scope.has_end.then_some(vertices.len() - 1),
            Endpoint::State(id) => scope
                .nodes
                .iter()
                .position(|node| node.id == id)
                .map(|position| position + 1),
        }
    };
    let links: Vec<(usize, usize)> = scope
        .edges
        .iter()
        .map(|edge| {
            (
                vertex_of(edge.from).unwrap_or(0),
                vertex_of(edge.to).unwrap_or(0),
            )
        })
        .collect();

    let layers = assign_layers(vertices.len(), &links);
    let diamonds = vertices
        .iter()
        .map(|vertex| matches!(vertex, Vertex::Node(n) if scope.nodes[*n].shape == Shape::Choice))
        .collect();
    let mut graph = Layered::new(vertices, sizes, diamonds, layers);
    // Long forward edges get a bend vertex in every layer they cross.
    let mut routes = Vec::new();
    for &(from, to) in &links {
        let (from_layer, to_layer) = (graph.layer[from], graph.layer[to]);
        if to_layer <= from_layer {
            routes.push(vec![from, to]);
            continue;
        }
        let mut route = vec![from];
        for layer in from_layer + 1..to_layer {
            route.push(graph.add(Vertex::Bend, (2.0, 2.0), layer));
        }
        route.push(to);
        routes.push(route);
    }
    // Catch edges pull less than the transitions of the happy path, which stays straight.
    let weights: Vec<f64> = scope
        .edges
        .iter()
        .map(|edge| match edge.style {
            EdgeStyle::Solid => 1.0,
            EdgeStyle::Catch => 0.15,
        })
        .collect();
    let adjacency = graph.adjacency(&routes, &weights);
    graph.order(&adjacency);
    let labelled_gaps: Vec<bool> = {
        let mut gaps = vec![false; graph.layer_count()];
        for (edge, route) in scope.edges.iter().zip(&routes) {
            if edge.label.is_some() && graph.layer[route[1]] > graph.layer[route[0]] {
                gaps[graph.layer[route[0]]] = true;
            }
        }
        gaps
    };
    graph.place_x(&adjacency);
    graph.place_y(&labelled_gaps);

    let mut edges = Vec::new();
    let mut lanes = 0;
    let mut left_lanes = 0;
    let right = graph.right();
    let catch: Vec<bool> = scope
        .edges
        .iter()
        .map(|edge| edge.style == EdgeStyle::Catch)
        .collect();
    let ends = RouteEnds::of(&routes, graph.vertices.len());
    for (index, ((edge, route), &(from, to))) in
        scope.edges.iter().zip(&routes).zip(&links).enumerate()
    {
        let label = edge.label.clone();
        if graph.layer[to] <= graph.layer[from] {
            // Back up around the side of the picture the two ends are nearer, in a lane of
            // its own.
            let left_side = graph.is_first(from) && graph.is_first(to)
                || !(graph.is_last(from) && graph.is_last(to)) && graph.prefers_left(from, to);
            let (start, end, lane, anchor) = if left_side {
                left_lanes += 1;
                let lane = -LANE_GAP * left_lanes as f64;
                (
                    graph.side(from, -1.0),
                    graph.side(to, -1.0),
                    lane,
                    Anchor::End,
                )
            } else {
                lanes += 1;
                let lane = right + LANE_GAP * lanes as f64;
                (
                    graph.side(from, 1.0),
                    graph.side(to, 1.0),
                    lane,
                    Anchor::Start,
                )
            };
            let points = vec![
                start,
                Point {
                    x: lane,
                    y: start.y,
                },
                Point { x: lane, y: end.y },
                end,
            ];
            let label = label.map(|text| {
                Label::new(
                    &text,
                    Point {
                        x: lane,
                        y: (start.y + end.y) / 2.0,
                    },
                    anchor,
                )
            });
            edges.push(EdgeLayout {
                points,
                looped: true,
                style: edge.style,
                label,
            });
            continue;
        }
        let mut points = vec![graph.port(index, true, &routes, &ends, &catch)];
        points.extend(
            route[1..route.len() - 1]
                .iter()
                .map(|&bend| graph.centre(bend)),
        );
        points.push(graph.port(index, false, &routes, &ends, &catch));
        let label = label.map(|text| {
            let (a, b) = (points[0], points[1]);
            let gap_middle =
                graph.layer_bottom(graph.layer[from]) + graph.gap_after(graph.layer[from]) / 2.0;
            let t = if (b.y - a.y).abs() < f64::EPSILON {
                0.5
            } else {
                ((gap_middle - a.y) / (b.y - a.y)).clamp(0.0, 1.0)
            };
            let at = Point {
                x: a.x + (b.x - a.x) * t,
                y: a.y + (b.y - a.y) * t,
            };
            // Beside the edge, on the side it leans away from.
            let anchor = if b.x < a.x - 1.0 {
                Anchor::End
            } else {
                Anchor::Start
            };
            Label::new(&text, at, anchor)
        });
        edges.push(EdgeLayout {
            points,
            looped: false,
            style: edge.style,
            label,
        });
    }
    let mut boxes: Vec<(Vertex, Point, f64, f64)> = (0..graph.vertices.len())
        .map(|v| {
            (
                graph.vertices[v],
                graph.centre(v),
                graph.sizes[v].0,
                graph.sizes[v].1,
            )
        })
        .collect();
    // Labels may stick out on the left: shift everything right to make room.
    let lane_left = edges
        .iter()
        .flat_map(|edge| edge.points.iter().map(|point| point.x - 6.0))
        .fold(0.0, f64::min);
    let left = edges
        .iter()
        .filter_map(|edge| edge.label.as_ref())
        .map(Label::left)
        .fold(lane_left, f64::min);
    if left < 0.0 {
        for (_, centre, _, _) in &mut boxes {
            centre.x -= left;
        }
        for edge in &mut edges {
            for point in &mut edge.points {
                point.x -= left;
            }
            if let Some(label) = &mut edge.label {
                label.at.x -= left;
            }
        }
    }
    let label_right = edges
        .iter()
        .filter_map(|edge| edge.label.as_ref())
        .map(|label| label.left() + label.width())
        .fold(0.0, f64::max);
    let lane_right = edges
        .iter()
        .filter(|edge| edge.looped)
        .flat_map(|edge| edge.points.iter().map(|point| point.x + 6.0))
        .fold(0.0, f64::max);
    let width = (right - left.min(0.0)).max(label_right).max(lane_right);
    ScopeLayout {
        width,
        height: graph.bottom(),
        boxes,
        children,
        edges,
    }
}
