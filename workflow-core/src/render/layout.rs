//! A layered layout of a [`Picture`], for the SVG renderer: each scope's states in layers
//! from top to bottom (longest path from the start), ordered to reduce crossings, placed as
//! close to their neighbours as spacing allows; containers sized around their scopes.

use super::graph::{EdgeStyle, Endpoint, Picture, Shape};

/// Average glyph widths of the fonts used, in pixels (Helvetica-like metrics, rounded up).
const NAME_CHAR: f64 = 7.4;
const DETAIL_CHAR: f64 = 6.3;
pub(super) const NAME_LINE: f64 = 16.0;
pub(super) const DETAIL_LINE: f64 = 14.0;
pub(super) const PADDING: f64 = 10.0;
const NODE_GAP: f64 = 28.0;
const LAYER_GAP: f64 = 46.0;
const LABELLED_LAYER_GAP: f64 = 62.0;
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
    graph.order(&routes, &weights);
    let labelled_gaps: Vec<bool> = {
        let mut gaps = vec![false; graph.layer_count()];
        for (edge, route) in scope.edges.iter().zip(&routes) {
            if edge.label.is_some() && graph.layer[route[1]] > graph.layer[route[0]] {
                gaps[graph.layer[route[0]]] = true;
            }
        }
        gaps
    };
    graph.place_x(&routes, &weights);
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
        let mut points = vec![graph.port(index, true, &routes, &catch)];
        points.extend(
            route[1..route.len() - 1]
                .iter()
                .map(|&bend| graph.centre(bend)),
        );
        points.push(graph.port(index, false, &routes, &catch));
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

/// Layers by longest path from the start over the edges that do not close a cycle.
fn assign_layers(count: usize, links: &[(usize, usize)]) -> Vec<usize> {
    // Depth-first from the start: an edge to a vertex on the stack closes a cycle.
    let mut state = vec![0u8; count]; // 0 new, 1 on the stack, 2 done
    let mut back = vec![false; links.len()];
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    state[0] = 1;
    while let Some(&mut (vertex, ref mut next_link)) = stack.last_mut() {
        let outgoing = links
            .iter()
            .enumerate()
            .filter(|(_, link)| link.0 == vertex)
            .nth(*next_link);
        *next_link += 1;
        match outgoing {
            Some((link_index, &(_, to))) => match state[to] {
                0 => {
                    state[to] = 1;
                    stack.push((to, 0));
                }
                1 => back[link_index] = true,
                _ => {}
            },
            None => {
                state[vertex] = 2;
                stack.pop();
            }
        }
    }
    let mut layer = vec![0usize; count];
    // Relax forward edges until stable (the graph minus back edges is acyclic).
    for _ in 0..count {
        let mut changed = false;
        for (link, &(from, to)) in links.iter().enumerate() {
            if !back[link] && from != to && layer[to] < layer[from] + 1 {
                layer[to] = layer[from] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Vertices the start does not reach (none in a checked workflow) go below the start.
    for (vertex, visited) in state.iter().enumerate() {
        if *visited == 0 && vertex != 0 {
            layer[vertex] = layer[vertex].max(1);
        }
    }
    layer
}

/// Vertices in layers, with positions.
struct Layered {
    vertices: Vec<Vertex>,
    sizes: Vec<(f64, f64)>,
    diamonds: Vec<bool>,
    layer: Vec<usize>,
    /// Per layer, its vertices from left to right.
    rows: Vec<Vec<usize>>,
    x: Vec<f64>,
    /// Per layer, the top of its band and its height.
    bands: Vec<(f64, f64)>,
    gaps: Vec<f64>,
}

impl Layered {
    fn new(
        vertices: Vec<Vertex>,
        sizes: Vec<(f64, f64)>,
        diamonds: Vec<bool>,
        layer: Vec<usize>,
    ) -> Self {
        let count = layer.iter().copied().max().unwrap_or(0) + 1;
        let mut rows = vec![Vec::new(); count];
        for (vertex, &l) in layer.iter().enumerate() {
            rows[l].push(vertex);
        }
        let x = vec![0.0; vertices.len()];
        Layered {
            vertices,
            sizes,
            diamonds,
            layer,
            rows,
            x,
            bands: Vec::new(),
            gaps: Vec::new(),
        }
    }

    fn add(&mut self, vertex: Vertex, size: (f64, f64), layer: usize) -> usize {
        self.vertices.push(vertex);
        self.sizes.push(size);
        self.diamonds.push(false);
        self.layer.push(layer);
        self.x.push(0.0);
        self.rows[layer].push(self.vertices.len() - 1);
        self.vertices.len() - 1
    }

    fn layer_count(&self) -> usize {
        self.rows.len()
    }

    /// Adjacent-layer neighbours of `vertex`: above (`up`) or below.
    fn neighbours(
        &self,
        vertex: usize,
        routes: &[Vec<usize>],
        weights: &[f64],
        up: bool,
    ) -> Vec<(usize, f64)> {
        let mut found = Vec::new();
        for (route, &weight) in routes.iter().zip(weights) {
            for pair in route.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                if self.layer[b] != self.layer[a] + 1 {
                    continue;
                }
                if up && b == vertex {
                    found.push((a, weight));
                } else if !up && a == vertex {
                    found.push((b, weight));
                }
            }
        }
        found
    }

    /// Orders each layer by the barycentre of its neighbours, sweeping down and up.
    fn order(&mut self, routes: &[Vec<usize>], weights: &[f64]) {
        for sweep in 0..6 {
            let up = sweep % 2 == 0;
            let layers: Vec<usize> = if up {
                (1..self.rows.len()).collect()
            } else {
                (0..self.rows.len().saturating_sub(1)).rev().collect()
            };
            for l in layers {
                let reference = if up { l - 1 } else { l + 1 };
                let position = |vertex: usize| {
                    self.rows[reference]
                        .iter()
                        .position(|&v| v == vertex)
                        .unwrap_or(0) as f64
                };
                let mut keyed: Vec<(f64, usize, usize)> = self.rows[l]
                    .iter()
                    .enumerate()
                    .map(|(current, &vertex)| {
                        let neighbours = self.neighbours(vertex, routes, weights, up);
                        let key = weighted_mean(&neighbours, position).unwrap_or(current as f64);
                        (key, current, vertex)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                self.rows[l] = keyed.into_iter().map(|(_, _, vertex)| vertex).collect();
            }
        }
    }

    /// Horizontal centres: each vertex as near the mean of its neighbours as spacing allows.
    fn place_x(&mut self, routes: &[Vec<usize>], weights: &[f64]) {
        for row in &self.rows {
            let mut x = 0.0;
            for &vertex in row {
                self.x[vertex] = x + self.sizes[vertex].0 / 2.0;
                x += self.sizes[vertex].0 + NODE_GAP;
            }
        }
        for sweep in 0..4 {
            let up = sweep % 2 == 0;
            let layers: Vec<usize> = if up {
                (1..self.rows.len()).collect()
            } else {
                (0..self.rows.len().saturating_sub(1)).rev().collect()
            };
            for l in layers {
                let row = self.rows[l].clone();
                let desired: Vec<f64> = row
                    .iter()
                    .map(|&vertex| {
                        let neighbours = self.neighbours(vertex, routes, weights, up);
                        weighted_median(&neighbours, |n| self.x[n]).unwrap_or(self.x[vertex])
                    })
                    .collect();
                let separations: Vec<f64> = row
                    .windows(2)
                    .map(|pair| {
                        (self.sizes[pair[0]].0 + self.sizes[pair[1]].0) / 2.0
                            + gap_between(&self.vertices, pair)
                    })
                    .collect();
                for (vertex, x) in row.iter().zip(closest_spaced(&desired, &separations)) {
                    self.x[*vertex] = x;
                }
            }
        }
        let left = (0..self.x.len())
            .map(|v| self.x[v] - self.sizes[v].0 / 2.0)
            .fold(f64::INFINITY, f64::min);
        if left.is_finite() {
            for x in &mut self.x {
                *x -= left;
            }
        }
    }

    fn place_y(&mut self, labelled_gaps: &[bool]) {
        let mut y = 0.0;
        for (l, row) in self.rows.iter().enumerate() {
            let height = row.iter().map(|&v| self.sizes[v].1).fold(0.0, f64::max);
            self.bands.push((y, height));
            let gap = if labelled_gaps.get(l).copied().unwrap_or(false) {
                LABELLED_LAYER_GAP
            } else {
                LAYER_GAP
            };
            self.gaps.push(gap);
            y += height + gap;
        }
    }

    fn centre(&self, vertex: usize) -> Point {
        let (top, height) = self.bands[self.layer[vertex]];
        Point {
            x: self.x[vertex],
            y: top + height / 2.0,
        }
    }

    fn layer_bottom(&self, layer: usize) -> f64 {
        let (top, height) = self.bands[layer];
        top + height
    }

    fn gap_after(&self, layer: usize) -> f64 {
        self.gaps[layer]
    }

    fn right(&self) -> f64 {
        (0..self.x.len())
            .map(|v| self.x[v] + self.sizes[v].0 / 2.0)
            .fold(0.0, f64::max)
    }

    fn bottom(&self) -> f64 {
        self.bands.last().map_or(0.0, |(top, height)| top + height)
    }

    /// The middle of the right (`direction` 1) or left (-1) side of `vertex`.
    fn side(&self, vertex: usize, direction: f64) -> Point {
        let centre = self.centre(vertex);
        Point {
            x: centre.x + direction * self.sizes[vertex].0 / 2.0,
            y: centre.y,
        }
    }

    fn is_first(&self, vertex: usize) -> bool {
        self.rows[self.layer[vertex]].first() == Some(&vertex)
    }

    fn is_last(&self, vertex: usize) -> bool {
        self.rows[self.layer[vertex]].last() == Some(&vertex)
    }

    /// Whether fewer boxes stand between the two vertices and the left edge than the right.
    fn prefers_left(&self, from: usize, to: usize) -> bool {
        let position = |vertex: usize| {
            let row = &self.rows[self.layer[vertex]];
            let index = row.iter().position(|&v| v == vertex).unwrap_or(0);
            (index, row.len() - 1 - index)
        };
        let (from_left, from_right) = position(from);
        let (to_left, to_right) = position(to);
        from_left + to_left < from_right + to_right
    }

    /// The vertex next to `vertex` along route `r`, when `r` leaves `vertex` downwards (`out`)
    /// or arrives at it from above.
    fn neighbour_at(&self, r: &[usize], vertex: usize, out: bool) -> Option<usize> {
        if out {
            (r[0] == vertex && self.layer[r[1]] > self.layer[vertex]).then(|| r[1])
        } else {
            let before = r[r.len() - 2];
            (r[r.len() - 1] == vertex && self.layer[before] < self.layer[vertex]).then_some(before)
        }
    }

    /// Where route `index` meets its first vertex (`out`) or its last: the bottom or top,
    /// spread when several edges share that side (catch edges off to the side of the
    /// transitions), on the outline of a diamond.
    fn port(&self, index: usize, out: bool, routes: &[Vec<usize>], catch: &[bool]) -> Point {
        let route = &routes[index];
        let vertex = if out {
            route[0]
        } else {
            route[route.len() - 1]
        };
        let neighbour_of = |r: &Vec<usize>| self.neighbour_at(r, vertex, out);
        let centre = self.centre(vertex);
        let (width, height) = self.sizes[vertex];
        let neighbour = neighbour_of(route).unwrap_or(vertex);
        let sharing = |want_catch: bool| {
            let mut found: Vec<usize> = routes
                .iter()
                .zip(catch)
                .filter(|(_, &is_catch)| is_catch == want_catch)
                .filter_map(|(r, _)| neighbour_of(r))
                .collect();
            found.sort_by(|a, b| self.x[*a].total_cmp(&self.x[*b]));
            found.dedup();
            found
        };
        let group = sharing(catch[index]);
        let slot = group.iter().position(|&v| v == neighbour).unwrap_or(0) as f64;
        let count = group.len().max(1) as f64;
        let spread = (width * 0.6 / count).min(18.0);
        let mut dx = (slot - (count - 1.0) / 2.0) * spread;
        if catch[index] && !sharing(false).is_empty() {
            let side = if self.x[neighbour] < centre.x {
                -1.0
            } else {
                1.0
            };
            dx += side * width * 0.3;
        }
        let half = height / 2.0;
        let dy = if self.diamonds[vertex] {
            half * (1.0 - 2.0 * dx.abs() / width).max(0.0)
        } else {
            half
        };
        Point {
            x: centre.x + dx,
            y: if out { centre.y + dy } else { centre.y - dy },
        }
    }
}

/// The mean of `value` over weighted vertices, if there are any.
fn weighted_mean(vertices: &[(usize, f64)], value: impl Fn(usize) -> f64) -> Option<f64> {
    let total: f64 = vertices.iter().map(|(_, weight)| weight).sum();
    (total > 0.0).then(|| {
        vertices
            .iter()
            .map(|&(vertex, weight)| value(vertex) * weight)
            .sum::<f64>()
            / total
    })
}

/// The weighted median of `value` over weighted vertices (the mean of the two middle values
/// when the weight splits evenly), if there are any: a heavy neighbour wins over light ones,
/// so the happy path stays straight.
fn weighted_median(vertices: &[(usize, f64)], value: impl Fn(usize) -> f64) -> Option<f64> {
    let mut values: Vec<(f64, f64)> = vertices
        .iter()
        .map(|&(vertex, weight)| (value(vertex), weight))
        .collect();
    values.sort_by(|a, b| a.0.total_cmp(&b.0));
    let half = values.iter().map(|(_, weight)| weight).sum::<f64>() / 2.0;
    let mut cumulative = 0.0;
    for (index, &(x, weight)) in values.iter().enumerate() {
        cumulative += weight;
        if (cumulative - half).abs() < 1e-9 {
            return Some(values.get(index + 1).map_or(x, |next| (x + next.0) / 2.0));
        }
        if cumulative > half {
            return Some(x);
        }
    }
    None
}

/// Bends sit closer to each other than boxes do.
fn gap_between(vertices: &[Vertex], pair: &[usize]) -> f64 {
    match (vertices[pair[0]], vertices[pair[1]]) {
        (Vertex::Bend, Vertex::Bend) => 10.0,
        (Vertex::Bend, _) | (_, Vertex::Bend) => NODE_GAP / 1.5,
        _ => NODE_GAP,
    }
}

/// The positions closest (least squares) to `desired` keeping `separations[i]` between
/// positions `i` and `i + 1`: isotonic regression by pooling adjacent violators.
fn closest_spaced(desired: &[f64], separations: &[f64]) -> Vec<f64> {
    // Shifting out the separations turns the constraint into "non-decreasing".
    let mut offsets = Vec::with_capacity(desired.len());
    let mut total = 0.0;
    for index in 0..desired.len() {
        if index > 0 {
            total += separations[index - 1];
        }
        offsets.push(total);
    }
    let mut blocks: Vec<(f64, usize)> = Vec::new(); // (mean, size)
    for (target, offset) in desired.iter().zip(&offsets) {
        blocks.push((target - offset, 1));
        while blocks.len() > 1 {
            let (last_mean, last_size) = blocks[blocks.len() - 1];
            let (previous_mean, previous_size) = blocks[blocks.len() - 2];
            if previous_mean <= last_mean {
                break;
            }
            let size = previous_size + last_size;
            let mean =
                (previous_mean * previous_size as f64 + last_mean * last_size as f64) / size as f64;
            blocks.pop();
            blocks.pop();
            blocks.push((mean, size));
        }
    }
    let mut positions = Vec::with_capacity(desired.len());
    for (mean, size) in blocks {
        for _ in 0..size {
            positions.push(mean + offsets[positions.len()]);
        }
    }
    positions
}

#[cfg(test)]
mod tests {
    use super::closest_spaced;

    #[test]
    fn spaced_positions_stay_as_close_as_the_spacing_allows() {
        assert_eq!(closest_spaced(&[0.0, 100.0], &[10.0]), vec![0.0, 100.0]);
        assert_eq!(closest_spaced(&[50.0, 50.0], &[20.0]), vec![40.0, 60.0]);
        assert_eq!(
            closest_spaced(&[0.0, 0.0, 0.0], &[10.0, 10.0]),
            vec![-10.0, 0.0, 10.0]
        );
    }
}
