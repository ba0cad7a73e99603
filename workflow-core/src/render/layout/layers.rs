//! Layers, the order within them and horizontal positions: the Sugiyama-style core of the
//! layout, over plain vertices and sizes.

use super::{Point, Vertex, LABELLED_LAYER_GAP, LAYER_GAP, NODE_GAP};

/// Layers by longest path from the start over the edges that do not close a cycle.
pub(super) fn assign_layers(count: usize, links: &[(usize, usize)]) -> Vec<usize> {
    // Depth-first from the start: an edge to a vertex on the stack closes a cycle.
    let mut state = vec![0u8; count]; // 0 new, 1 on the stack, 2 done
    let mut back = vec![false; links.len()];
    // Each vertex's links, in their order: found once, not by a scan of all links per step.
    let mut outgoing_links = vec![Vec::new(); count];
    for (link_index, &(from, _)) in links.iter().enumerate() {
        outgoing_links[from].push(link_index);
    }
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    state[0] = 1;
    while let Some(&mut (vertex, ref mut next_link)) = stack.last_mut() {
        let outgoing = outgoing_links[vertex]
            .get(*next_link)
            .map(|&link_index| (link_index, &links[link_index]));
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
pub(super) struct Layered {
    pub(super) vertices: Vec<Vertex>,
    pub(super) sizes: Vec<(f64, f64)>,
    pub(super) diamonds: Vec<bool>,
    pub(super) layer: Vec<usize>,
    /// Per layer, its vertices from left to right.
    pub(super) rows: Vec<Vec<usize>>,
    pub(super) x: Vec<f64>,
    /// Per layer, the top of its band and its height.
    pub(super) bands: Vec<(f64, f64)>,
    pub(super) gaps: Vec<f64>,
}

/// The routes that leave each vertex (`first`) and those that reach it (`last`), in the
/// routes' order: the only ones that can share a side of it with another (see
/// [`Layered::port`]).
pub(super) struct RouteEnds {
    first: Vec<Vec<usize>>,
    last: Vec<Vec<usize>>,
}

impl RouteEnds {
    /// The ends of `routes` between `count` vertices.
    pub(super) fn of(routes: &[Vec<usize>], count: usize) -> Self {
        let mut ends = RouteEnds {
            first: vec![Vec::new(); count],
            last: vec![Vec::new(); count],
        };
        for (index, route) in routes.iter().enumerate() {
            if let (Some(&first), Some(&last)) = (route.first(), route.last()) {
                ends.first[first].push(index);
                ends.last[last].push(index);
            }
        }
        ends
    }
}

/// See [`Layered::adjacency`].
pub(super) struct Adjacency {
    above: Vec<Vec<(usize, f64)>>,
    below: Vec<Vec<(usize, f64)>>,
}

impl Adjacency {
    /// The neighbours of `vertex` in the layer above (`up`) or below.
    fn of(&self, vertex: usize, up: bool) -> &[(usize, f64)] {
        if up {
            &self.above[vertex]
        } else {
            &self.below[vertex]
        }
    }
}

impl Layered {
    pub(super) fn new(
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

    pub(super) fn add(&mut self, vertex: Vertex, size: (f64, f64), layer: usize) -> usize {
        self.vertices.push(vertex);
        self.sizes.push(size);
        self.diamonds.push(false);
        self.layer.push(layer);
        self.x.push(0.0);
        self.rows[layer].push(self.vertices.len() - 1);
        self.vertices.len() - 1
    }

    pub(super) fn layer_count(&self) -> usize {
        self.rows.len()
    }

    /// Each vertex's neighbours in the adjacent layers, along the routes' segments between
    /// them, with the routes' weights, in the routes' order: found once for the ordering and
    /// placing sweeps rather than by a scan of every route for each vertex (which made the
    /// layout of a workflow quadratic in its states). Layers do not change in those sweeps.
    pub(super) fn adjacency(&self, routes: &[Vec<usize>], weights: &[f64]) -> Adjacency {
        let count = self.vertices.len();
        let mut adjacency = Adjacency {
            above: vec![Vec::new(); count],
            below: vec![Vec::new(); count],
        };
        for (route, &weight) in routes.iter().zip(weights) {
            for pair in route.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                if self.layer[b] != self.layer[a] + 1 {
                    continue;
                }
                adjacency.above[b].push((a, weight));
                adjacency.below[a].push((b, weight));
            }
        }
        adjacency
    }

    /// The layers a sweep visits: downwards from the second when it looks at the layer above
    /// (`up`), upwards from the one before last otherwise.
    fn sweep(&self, up: bool) -> Vec<usize> {
        if up {
            (1..self.rows.len()).collect()
        } else {
            (0..self.rows.len().saturating_sub(1)).rev().collect()
        }
    }

    /// Orders each layer by the barycentre of its neighbours, sweeping down and up.
    pub(super) fn order(&mut self, adjacency: &Adjacency) {
        // Each vertex's index in its layer, kept as layers are reordered.
        let mut index = vec![0usize; self.vertices.len()];
        for row in &self.rows {
            for (at, &vertex) in row.iter().enumerate() {
                index[vertex] = at;
            }
        }
        for sweep in 0..6 {
            let up = sweep % 2 == 0;
            let layers = self.sweep(up);
            for l in layers {
                let position = |vertex: usize| index[vertex] as f64;
                let mut keyed: Vec<(f64, usize, usize)> = self.rows[l]
                    .iter()
                    .enumerate()
                    .map(|(current, &vertex)| {
                        let neighbours = adjacency.of(vertex, up);
                        let key = weighted_mean(neighbours, position).unwrap_or(current as f64);
                        (key, current, vertex)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                self.rows[l] = keyed.into_iter().map(|(_, _, vertex)| vertex).collect();
                for (at, &vertex) in self.rows[l].iter().enumerate() {
                    index[vertex] = at;
                }
            }
        }
    }

    /// Horizontal centres: each vertex as near the weighted median of its neighbours as
    /// spacing allows.
    pub(super) fn place_x(&mut self, adjacency: &Adjacency) {
        for row in &self.rows {
            let mut x = 0.0;
            for &vertex in row {
                self.x[vertex] = x + self.sizes[vertex].0 / 2.0;
                x += self.sizes[vertex].0 + NODE_GAP;
            }
        }
        for sweep in 0..4 {
            let up = sweep % 2 == 0;
            let layers = self.sweep(up);
            for l in layers {
                let row = self.rows[l].clone();
                let desired: Vec<f64> = row
                    .iter()
                    .map(|&vertex| {
                        let neighbours = adjacency.of(vertex, up);
                        weighted_median(neighbours, |n| self.x[n]).unwrap_or(self.x[vertex])
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

    pub(super) fn place_y(&mut self, labelled_gaps: &[bool]) {
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

    pub(super) fn centre(&self, vertex: usize) -> Point {
        let (top, height) = self.bands[self.layer[vertex]];
        Point {
            x: self.x[vertex],
            y: top + height / 2.0,
        }
    }

    pub(super) fn layer_bottom(&self, layer: usize) -> f64 {
        let (top, height) = self.bands[layer];
        top + height
    }

    pub(super) fn gap_after(&self, layer: usize) -> f64 {
        self.gaps[layer]
    }

    pub(super) fn right(&self) -> f64 {
        (0..self.x.len())
            .map(|v| self.x[v] + self.sizes[v].0 / 2.0)
            .fold(0.0, f64::max)
    }

    pub(super) fn bottom(&self) -> f64 {
        self.bands.last().map_or(0.0, |(top, height)| top + height)
    }

    /// The middle of the right (`direction` 1) or left (-1) side of `vertex`.
    pub(super) fn side(&self, vertex: usize, direction: f64) -> Point {
        let centre = self.centre(vertex);
        Point {
            x: centre.x + direction * self.sizes[vertex].0 / 2.0,
            y: centre.y,
        }
    }

    pub(super) fn is_first(&self, vertex: usize) -> bool {
        self.rows[self.layer[vertex]].first() == Some(&vertex)
    }

    pub(super) fn is_last(&self, vertex: usize) -> bool {
        self.rows[self.layer[vertex]].last() == Some(&vertex)
    }

    /// Whether fewer boxes stand between the two vertices and the left edge than the right.
    pub(super) fn prefers_left(&self, from: usize, to: usize) -> bool {
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
    pub(super) fn neighbour_at(&self, r: &[usize], vertex: usize, out: bool) -> Option<usize> {
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
    pub(super) fn port(
        &self,
        index: usize,
        out: bool,
        routes: &[Vec<usize>],
        ends: &RouteEnds,
        catch: &[bool],
    ) -> Point {
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
        let meeting = if out {
            &ends.first[vertex]
        } else {
            &ends.last[vertex]
        };
        let sharing = |want_catch: bool| {
            let mut found: Vec<usize> = meeting
                .iter()
                .filter(|&&r| catch[r] == want_catch)
                .filter_map(|&r| neighbour_of(&routes[r]))
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
    pub(super) fn spaced_positions_stay_as_close_as_the_spacing_allows() {
        assert_eq!(closest_spaced(&[0.0, 100.0], &[10.0]), vec![0.0, 100.0]);
        assert_eq!(closest_spaced(&[50.0, 50.0], &[20.0]), vec![40.0, 60.0]);
        assert_eq!(
            closest_spaced(&[0.0, 0.0, 0.0], &[10.0, 10.0]),
            vec![-10.0, 0.0, 10.0]
        );
    }
}
