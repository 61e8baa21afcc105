/*
 * trunkline's dependency-graph renderer: a layered (Sugiyama-style) layout
 * drawn as SVG, with pan, zoom and click-to-select. No libraries, no build.
 *
 *   var view = TrunklineGraph.render(container, nodes, edges, options);
 *   view.update(nodes, edges); view.fit(); view.select(id); view.destroy();
 *
 * nodes: [{id, label, status, family}]; edges: [[taskId, dependencyId], ...]
 * (the task requires the dependency). options: {direction: 'LR' | 'TB',
 * onSelect: function (id), selected: id}. In 'LR' dependencies sit on the
 * left and the tasks that need them (the root last) on the right; in 'TB'
 * dependencies sit above.
 *
 * The layout, in four steps, each linear or n log n, none recursive (a
 * dependency chain may be 100,000 deep):
 *   1. Cycles: an iterative depth-first search reverses its back edges, so
 *      a graph with a cycle still lays out (the reversed edge is drawn dashed).
 *   2. Layers: longest path measured from the roots, so every dependency sits
 *      one layer before the first task that needs it and edges stay short;
 *      then each task nothing requires moves next to its own dependencies.
 *      Edges spanning several layers get a chain of invisible "dummy" points
 *      (up to a budget; past it long edges are drawn directly).
 *   3. Order within layers: a depth-first order from the roots, then
 *      barycentre sweeps, keeping the order with the fewest crossings.
 *   4. Coordinates: each node is pulled towards the mean of its neighbours,
 *      and the closest non-overlapping positions that keep the order are found
 *      per layer with pool-adjacent-violators (an isotonic regression).
 *
 * Task ids carry user parameters: every text is set with textContent or
 * setAttribute, never parsed as markup.
 */
(function () {
  'use strict';

  var SVG_NS = 'http://www.w3.org/2000/svg';
  var KNOWN_STATUSES = {
    PENDING: true, RUNNING: true, DONE: true, FAILED: true,
    DISABLED: true, UNKNOWN: true, BATCH_RUNNING: true
  };
  // Box sizes and gaps (px) per direction. A box is as wide as its label,
  // within limits (in 'LR' a whole layer takes its widest label, so columns
  // line up). Labels are monospace, so their width is known without
  // measuring 1,000 texts.
  var GEOMETRY = {
    LR: { minWidth: 90, maxWidth: 340, nodeHeight: 26, layerGap: 70, nodeGap: 10, dummyGap: 5 },
    TB: { minWidth: 70, maxWidth: 300, nodeHeight: 26, layerGap: 56, nodeGap: 14, dummyGap: 5 }
  };
  var CHAR_WIDTH = 6.6;        // 11px monospace: 0.6em per character
  var LABEL_PADDING = 8;
  var MARGIN = 20;
  var CROSSING_SWEEPS = 8;
  var COORDINATE_SWEEPS = 8;
  var LABELS_HIDDEN_BELOW_ZOOM = 0.35;  // unreadable anyway; hiding them draws faster
  var DRAG_THRESHOLD_PX = 4;

  function now() {
    return (window.performance && performance.now) ? performance.now() : Date.now();
  }

  // ------------------------------------------------------------------ layout

  /* Compressed adjacency: the edge indices leaving each node, contiguous. */
  function adjacency(count, keys) {
    var start = new Int32Array(count + 1);
    var i;
    for (i = 0; i < keys.length; i++) start[keys[i] + 1]++;
    for (i = 0; i < count; i++) start[i + 1] += start[i];
    var fill = start.slice(0, count);
    var list = new Int32Array(keys.length);
    for (i = 0; i < keys.length; i++) list[fill[keys[i]]++] = i;
    return { start: start, list: list };
  }

  function labelOf(node) {
    return String(node.label == null || node.label === '' ? node.id : node.label);
  }

  /* Unique node ids (with their labels) and unique edges dependency -> task between known nodes. */
  function indexGraph(nodes, edges) {
    var ids = [];
    var labels = [];
    var index = new Map();
    var i;
    for (i = 0; i < nodes.length; i++) {
      var id = String(nodes[i].id);
      if (!index.has(id)) {
        index.set(id, ids.length);
        ids.push(id);
        labels.push(labelOf(nodes[i]));
      }
    }
    var n = ids.length;
    var seen = new Set();
    var dep = [];
    var task = [];
    for (i = 0; i < edges.length; i++) {
      var t = index.get(String(edges[i][0]));
      var d = index.get(String(edges[i][1]));
      if (t === undefined || d === undefined || t === d) continue;
      var key = d * n + t;
      if (seen.has(key)) continue;
      seen.add(key);
      dep.push(d);
      task.push(t);
    }
    return { ids: ids, labels: labels, index: index, dep: dep, task: task };
  }

  /*
   * Reverses the back edges of an iterative depth-first search (which makes
   * the graph acyclic) and returns them with the search's post-order, in
   * which every node comes after all the nodes it points to.
   */
  function breakCycles(n, from, to, out, inn) {
    var m = from.length;
    var reversed = new Uint8Array(m);
    var state = new Uint8Array(n);          // 0 unseen, 1 on the stack, 2 finished
    var cursor = new Int32Array(n);
    var stack = new Int32Array(n);
    var postOrder = new Int32Array(n);
    var finished = 0;

    function search(root) {
      var top = 0;
      stack[top++] = root;
      state[root] = 1;
      cursor[root] = out.start[root];
      while (top > 0) {
        var v = stack[top - 1];
        if (cursor[v] < out.start[v + 1]) {
          var e = out.list[cursor[v]++];
          var w = to[e];
          if (state[w] === 0) {
            state[w] = 1;
            cursor[w] = out.start[w];
            stack[top++] = w;
          } else if (state[w] === 1) {
            reversed[e] = 1;
          }
        } else {
          state[v] = 2;
          postOrder[finished++] = v;
          top--;
        }
      }
    }
    var v;
    // Start from nodes nothing points to, so the edges reversed are the ones
    // that really close a cycle.
    for (v = 0; v < n; v++) if (state[v] === 0 && inn.start[v + 1] === inn.start[v]) search(v);
    for (v = 0; v < n; v++) if (state[v] === 0) search(v);
    return { reversed: reversed, postOrder: postOrder };
  }

  /* Layer of each node: distance (longest path) from the roots, flipped. */
  function assignLayers(n, from, to, out, inn, acyclic) {
    var rank = new Int32Array(n);
    var reversed = acyclic.reversed;
    var maxRank = 0;
    for (var k = 0; k < n; k++) {
      var v = acyclic.postOrder[k];
      var r = 0;
      var i, e;
      for (i = out.start[v]; i < out.start[v + 1]; i++) {
        e = out.list[i];
        if (!reversed[e] && rank[to[e]] + 1 > r) r = rank[to[e]] + 1;
      }
      for (i = inn.start[v]; i < inn.start[v + 1]; i++) {
        e = inn.list[i];
        if (reversed[e] && rank[from[e]] + 1 > r) r = rank[from[e]] + 1;
      }
      rank[v] = r;
      if (r > maxRank) maxRank = r;
    }
    var layer = new Int32Array(n);
    for (var u = 0; u < n; u++) layer[u] = maxRank - rank[u];
    // A task nothing requires would sit in the last layer, far from its own
    // dependencies when it is not the main root: move it next to them.
    for (var s = 0; s < n; s++) {
      if (rank[s] !== 0) continue;
      var deepest = -1;
      var j, f;
      for (j = inn.start[s]; j < inn.start[s + 1]; j++) {
        f = inn.list[j];
        if (!reversed[f] && layer[from[f]] > deepest) deepest = layer[from[f]];
      }
      for (j = out.start[s]; j < out.start[s + 1]; j++) {
        f = out.list[j];
        if (reversed[f] && layer[to[f]] > deepest) deepest = layer[to[f]];
      }
      if (deepest >= 0) layer[s] = deepest + 1;
    }
    return { layer: layer, layerCount: n ? maxRank + 1 : 0 };
  }

  /*
   * Adds dummy points on edges spanning several layers, so that every
   * segment joins adjacent layers. Returns the virtual graph: node layers,
   * segments, and for each edge the chain of virtual nodes it passes.
   */
  function buildVirtualGraph(n, from, to, acyclic, layer, budget) {
    var m = from.length;
    var low = new Int32Array(m);
    var high = new Int32Array(m);
    var dummies = 0;
    var e;
    for (e = 0; e < m; e++) {
      low[e] = acyclic.reversed[e] ? to[e] : from[e];
      high[e] = acyclic.reversed[e] ? from[e] : to[e];
      dummies += layer[high[e]] - layer[low[e]] - 1;
    }
    var routed = dummies <= budget;
    var total = n + (routed ? dummies : 0);
    var vLayer = new Int32Array(total);
    vLayer.set(layer);
    var chainStart = new Int32Array(m + 1);
    var chain = [];
    var segFrom = [];
    var segTo = [];
    var next = n;
    for (e = 0; e < m; e++) {
      chainStart[e] = chain.length;
      var previous = low[e];
      chain.push(previous);
      var span = layer[high[e]] - layer[low[e]];
      if (routed || span === 1) {
        for (var step = 1; step < span; step++) {
          vLayer[next] = layer[low[e]] + step;
          segFrom.push(previous);
          segTo.push(next);
          chain.push(next);
          previous = next++;
        }
        segFrom.push(previous);
        segTo.push(high[e]);
      }
      chain.push(high[e]);
    }
    chainStart[m] = chain.length;
    return {
      count: total, layer: vLayer, chain: chain, chainStart: chainStart,
      up: adjacency(total, segTo), down: adjacency(total, segFrom),
      segFrom: segFrom, segTo: segTo, routed: routed
    };
  }

  /* A depth-first order from the roots (rightmost layer) groups each subtree. */
  function initialOrder(vg, n, layerCount) {
    var layers = [];
    var l;
    for (l = 0; l < layerCount; l++) layers.push([]);
    var visited = new Uint8Array(vg.count);
    var stack = [];
    function visitFrom(root) {
      stack.push(root);
      while (stack.length) {
        var v = stack.pop();
        if (visited[v]) continue;
        visited[v] = 1;
        layers[vg.layer[v]].push(v);
        for (var i = vg.up.start[v + 1] - 1; i >= vg.up.start[v]; i--) {
          var w = vg.segFrom[vg.up.list[i]];
          if (!visited[w]) stack.push(w);
        }
      }
    }
    var v;
    for (v = 0; v < n; v++) if (vg.layer[v] === layerCount - 1) visitFrom(v);
    for (v = 0; v < vg.count; v++) if (!visited[v]) visitFrom(v);
    return layers;
  }

  /* Crossings between segments of adjacent layers (accumulator tree). */
  function countCrossings(vg, layers, pos) {
    var total = 0;
    var values = [];
    for (var l = 0; l + 1 < layers.length; l++) {
      var upper = layers[l];
      var width = layers[l + 1].length;
      values.length = 0;
      for (var i = 0; i < upper.length; i++) {
        var v = upper[i];
        var first = values.length;
        for (var k = vg.down.start[v]; k < vg.down.start[v + 1]; k++) values.push(pos[vg.segTo[vg.down.list[k]]]);
        if (values.length - first > 1) sortRange(values, first, values.length);
      }
      if (values.length < 2) continue;
      var size = 1;
      while (size < width) size *= 2;
      var tree = new Int32Array(2 * size);
      for (var j = 0; j < values.length; j++) {
        var index = values[j] + size;
        tree[index]++;
        while (index > 1) {
          if (index % 2 === 0) total += tree[index + 1];
          index = index >> 1;
          tree[index]++;
        }
      }
    }
    return total;
  }

  function sortRange(values, begin, end) {
    var part = values.slice(begin, end).sort(function (a, b) { return a - b; });
    for (var i = 0; i < part.length; i++) values[begin + i] = part[i];
  }

  function reorderByBarycentre(vg, layers, pos, key, downward) {
    var adj = downward ? vg.up : vg.down;
    var ends = downward ? vg.segFrom : vg.segTo;
    var begin = downward ? 1 : layers.length - 2;
    var stop = downward ? layers.length : -1;
    var step = downward ? 1 : -1;
    function byKey(a, b) { return (key[a] - key[b]) || (pos[a] - pos[b]); }
    for (var l = begin; l !== stop; l += step) {
      var layer = layers[l];
      for (var i = 0; i < layer.length; i++) {
        var v = layer[i];
        var sum = 0;
        var count = adj.start[v + 1] - adj.start[v];
        for (var k = adj.start[v]; k < adj.start[v + 1]; k++) sum += pos[ends[adj.list[k]]];
        key[v] = count ? sum / count : pos[v];
      }
      layer.sort(byKey);
      for (var j = 0; j < layer.length; j++) pos[layer[j]] = j;
    }
  }

  function orderLayers(vg, n, layerCount) {
    var layers = initialOrder(vg, n, layerCount);
    var pos = new Float64Array(vg.count);
    var key = new Float64Array(vg.count);
    var l, i;
    for (l = 0; l < layers.length; l++) for (i = 0; i < layers[l].length; i++) pos[layers[l][i]] = i;
    var best = countCrossings(vg, layers, pos);
    var bestLayers = layers.map(function (layer) { return layer.slice(); });
    for (var sweep = 0; sweep < CROSSING_SWEEPS && best > 0; sweep++) {
      reorderByBarycentre(vg, layers, pos, key, sweep % 2 === 0);
      var crossings = countCrossings(vg, layers, pos);
      if (crossings < best) {
        best = crossings;
        bestLayers = layers.map(function (layer) { return layer.slice(); });
      }
    }
    return { layers: bestLayers, crossings: best };
  }

  /*
   * Moves each node of a layer as close as possible to its desired
   * coordinate while keeping the order and the minimum separations:
   * with c_i the cumulative separations, z_i = y_i - c_i must not decrease,
   * and the best such z is the isotonic regression of desired_i - c_i.
   */
  function placeLayer(layer, desired, coord, separation) {
    var count = layer.length;
    var offset = new Float64Array(count);
    for (var i = 1; i < count; i++) offset[i] = offset[i - 1] + separation(layer[i - 1], layer[i]);
    var blockValue = new Float64Array(count);
    var blockWeight = new Float64Array(count);
    var blockEnd = new Int32Array(count);
    var blocks = 0;
    for (var j = 0; j < count; j++) {
      blockValue[blocks] = desired[layer[j]] - offset[j];
      blockWeight[blocks] = 1;
      blockEnd[blocks] = j;
      blocks++;
      while (blocks > 1 && blockValue[blocks - 2] > blockValue[blocks - 1]) {
        var weight = blockWeight[blocks - 2] + blockWeight[blocks - 1];
        blockValue[blocks - 2] = (blockValue[blocks - 2] * blockWeight[blocks - 2] +
                                  blockValue[blocks - 1] * blockWeight[blocks - 1]) / weight;
        blockWeight[blocks - 2] = weight;
        blockEnd[blocks - 2] = blockEnd[blocks - 1];
        blocks--;
      }
    }
    var at = 0;
    for (var b = 0; b < blocks; b++) {
      for (; at <= blockEnd[b]; at++) coord[layer[at]] = blockValue[b] + offset[at];
    }
  }

  /* Positions across the layers; orderSize[v] is each node's extent across them. */
  function assignCoordinates(vg, n, layers, geometry, orderSize) {
    var coord = new Float64Array(vg.count);
    var desired = new Float64Array(vg.count);
    function size(v) { return v < n ? orderSize[v] : 0; }
    function separation(a, b) {
      var gap = (a < n && b < n) ? geometry.nodeGap : geometry.dummyGap;
      return (size(a) + size(b)) / 2 + gap;
    }
    var l, i;
    for (l = 0; l < layers.length; l++) {
      var layer = layers[l];
      var at = 0;
      for (i = 0; i < layer.length; i++) {
        if (i > 0) at += separation(layer[i - 1], layer[i]);
        coord[layer[i]] = at;
      }
      for (i = 0; i < layer.length; i++) coord[layer[i]] -= at / 2;
    }
    function pull(useUp, useDown) {
      for (var v = 0; v < vg.count; v++) {
        var sum = 0;
        var count = 0;
        var k;
        if (useUp) {
          for (k = vg.up.start[v]; k < vg.up.start[v + 1]; k++) { sum += coord[vg.segFrom[vg.up.list[k]]]; count++; }
        }
        if (useDown) {
          for (k = vg.down.start[v]; k < vg.down.start[v + 1]; k++) { sum += coord[vg.segTo[vg.down.list[k]]]; count++; }
        }
        desired[v] = count ? sum / count : coord[v];
      }
    }
    for (var sweep = 0; sweep < COORDINATE_SWEEPS; sweep++) {
      var last = sweep === COORDINATE_SWEEPS - 1;
      // Alternate which side pulls; the last sweep balances both.
      pull(last || sweep % 2 === 0, last || sweep % 2 === 1);
      for (l = 0; l < layers.length; l++) placeLayer(layers[l], desired, coord, separation);
    }
    return coord;
  }

  /*
   * The whole layout. Returns boxes (top-left x, y) per node id and, per
   * edge, the polyline points its path goes through.
   */
  function layout(nodes, edges, options) {
    var direction = (options && options.direction === 'TB') ? 'TB' : 'LR';
    var geometry = GEOMETRY[direction];
    var graph = indexGraph(nodes, edges);
    var n = graph.ids.length;
    var from = graph.dep;
    var to = graph.task;
    var out = adjacency(n, from);
    var inn = adjacency(n, to);
    var acyclic = breakCycles(n, from, to, out, inn);
    var layering = assignLayers(n, from, to, out, inn, acyclic);
    var vg = buildVirtualGraph(n, from, to, acyclic, layering.layer, 20 * n + 2000);
    var ordering = orderLayers(vg, n, layering.layerCount);
    var H = geometry.nodeHeight;
    var widths = new Float64Array(n);
    var u;
    for (u = 0; u < n; u++) {
      var wanted = Math.ceil(graph.labels[u].length * CHAR_WIDTH) + 2 * LABEL_PADDING;
      widths[u] = Math.max(geometry.minWidth, Math.min(geometry.maxWidth, wanted));
    }
    // Extent of each layer along the layer axis, and where it starts.
    var layerSize = new Float64Array(layering.layerCount);
    for (u = 0; u < n; u++) {
      var l = layering.layer[u];
      var extent = direction === 'LR' ? widths[u] : H;
      if (extent > layerSize[l]) layerSize[l] = extent;
    }
    var layerOffset = new Float64Array(layering.layerCount);
    var depth = 0;
    for (var k = 0; k < layering.layerCount; k++) {
      layerOffset[k] = MARGIN + depth;
      depth += layerSize[k] + (k + 1 < layering.layerCount ? geometry.layerGap : 0);
    }
    var orderSize = new Float64Array(n);
    for (u = 0; u < n; u++) orderSize[u] = direction === 'LR' ? H : widths[u];
    var coord = assignCoordinates(vg, n, ordering.layers, geometry, orderSize);

    var minOrder = Infinity;
    var maxOrder = -Infinity;
    for (var v = 0; v < vg.count; v++) {
      var half = v < n ? orderSize[v] / 2 : 0;
      if (coord[v] - half < minOrder) minOrder = coord[v] - half;
      if (coord[v] + half > maxOrder) maxOrder = coord[v] + half;
    }
    if (!isFinite(minOrder)) { minOrder = 0; maxOrder = 0; }
    function orderCentre(v) { return MARGIN + coord[v] - minOrder; }
    // Canvas point of a virtual node: where an edge enters (side 0) or
    // leaves (side 1) its layer.
    function point(v, side) {
      var along = layerOffset[vg.layer[v]] + side * layerSize[vg.layer[v]];
      var across = orderCentre(v);
      return direction === 'LR' ? [along, across] : [across, along];
    }

    var boxes = new Array(n);
    for (u = 0; u < n; u++) {
      var centre = orderCentre(u);
      var start = layerOffset[vg.layer[u]];
      boxes[u] = direction === 'LR'
        ? { id: graph.ids[u], x: start, y: centre - H / 2, width: layerSize[vg.layer[u]], height: H }
        : { id: graph.ids[u], x: centre - widths[u] / 2, y: start, width: widths[u], height: H };
    }
    var routes = new Array(from.length);
    for (var e = 0; e < from.length; e++) {
      var points = [];
      var first = vg.chainStart[e];
      var lastIndex = vg.chainStart[e + 1] - 1;
      points.push(point(vg.chain[first], 1));
      for (var c = first + 1; c < lastIndex; c++) {
        points.push(point(vg.chain[c], 0));
        points.push(point(vg.chain[c], 1));
      }
      points.push(point(vg.chain[lastIndex], 0));
      routes[e] = {
        task: graph.ids[to[e]], dependency: graph.ids[from[e]],
        reversed: acyclic.reversed[e] === 1, points: points
      };
    }
    var breadth = maxOrder - minOrder;
    return {
      direction: direction, nodes: boxes, edges: routes,
      width: 2 * MARGIN + (direction === 'LR' ? depth : breadth),
      height: 2 * MARGIN + (direction === 'LR' ? breadth : depth),
      nodeHeight: H,
      layers: layering.layerCount, crossings: ordering.crossings, dummiesRouted: vg.routed
    };
  }

  // --------------------------------------------------------------- drawing

  function svgElement(name, attributes) {
    var element = document.createElementNS(SVG_NS, name);
    if (attributes) {
      for (var key in attributes) {
        if (Object.prototype.hasOwnProperty.call(attributes, key)) element.setAttribute(key, String(attributes[key]));
      }
    }
    return element;
  }

  function statusClass(status) {
    var value = String(status || 'UNKNOWN').toUpperCase();
    return KNOWN_STATUSES[value] ? value : 'UNKNOWN';
  }

  function truncate(text, width) {
    var room = Math.max(1, Math.floor((width - 2 * LABEL_PADDING) / CHAR_WIDTH));
    return text.length <= room ? text : text.slice(0, room - 1) + '\u2026';
  }

  /* A smooth path through the points: curves between layers, straight across them. */
  function pathData(points, direction) {
    var round = function (x) { return Math.round(x * 10) / 10; };
    var d = 'M' + round(points[0][0]) + ',' + round(points[0][1]);
    for (var i = 1; i < points.length; i++) {
      var a = points[i - 1];
      var b = points[i];
      if (i % 2 === 1) {
        if (direction === 'LR') {
          var mx = (a[0] + b[0]) / 2;
          d += 'C' + round(mx) + ',' + round(a[1]) + ' ' + round(mx) + ',' + round(b[1]) + ' ' + round(b[0]) + ',' + round(b[1]);
        } else {
          var my = (a[1] + b[1]) / 2;
          d += 'C' + round(a[0]) + ',' + round(my) + ' ' + round(b[0]) + ',' + round(my) + ' ' + round(b[0]) + ',' + round(b[1]);
        }
      } else {
        d += 'L' + round(b[0]) + ',' + round(b[1]);
      }
    }
    return d;
  }

  function edgeKey(task, dependency) {
    return String(dependency) + '\u0000' + String(task);
  }

  function render(container, nodes, edges, options) {
    if (!container || typeof container.appendChild !== 'function') {
      throw new TypeError('TrunklineGraph.render needs a container element, got ' + container);
    }
    options = options || {};
    var direction = options.direction === 'TB' ? 'TB' : 'LR';
    var onSelect = typeof options.onSelect === 'function' ? options.onSelect : null;

    var svg = svgElement('svg', { 'class': 'tl-graph tl-direction-' + direction, width: '100%', height: '100%' });
    var defs = svgElement('defs');
    var marker = svgElement('marker', {
      id: 'tl-arrow-' + Math.random().toString(36).slice(2), viewBox: '0 0 10 10', refX: 9, refY: 5,
      markerWidth: 8, markerHeight: 8, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse', 'class': 'tl-arrow'
    });
    marker.appendChild(svgElement('path', { d: 'M0,0L10,5L0,10z' }));
    defs.appendChild(marker);
    svg.appendChild(defs);
    var viewport = svgElement('g', { 'class': 'tl-viewport' });
    svg.appendChild(viewport);
    svg.setAttribute('role', 'group');
    svg.setAttribute('aria-label', 'Dependency graph');
    container.appendChild(svg);
    var arrowRef = 'url(#' + marker.getAttribute('id') + ')';

    var view = { x: 0, y: 0, k: 1 };
    var zoomRange = { min: 0.05, max: 4 };
    var userMoved = false;
    var current = null;              // the last layout
    var nodeParts = new Map();       // id -> {group, text, title, status, label}
    var idOfGroup = new WeakMap();
    var edgeParts = [];              // {task, dependency, path}
    var edgeKeys = new Set();
    var selectedId = options.selected == null ? null : String(options.selected);

    function applyView() {
      viewport.setAttribute('transform', 'translate(' + view.x + ',' + view.y + ') scale(' + view.k + ')');
      svg.classList.toggle('tl-labels-hidden', view.k < LABELS_HIDDEN_BELOW_ZOOM);
    }

    function viewSize() {
      var width = container.clientWidth || svg.clientWidth || 800;
      var height = container.clientHeight || svg.clientHeight || 600;
      return { width: width, height: height };
    }

    function fit() {
      if (!current) return;
      var size = viewSize();
      var k = Math.min(size.width / Math.max(current.width, 1), size.height / Math.max(current.height, 1), 1.5);
      zoomRange.min = Math.min(0.05, k / 2);
      view.k = k;
      view.x = (size.width - current.width * k) / 2;
      view.y = (size.height - current.height * k) / 2;
      userMoved = false;
      applyView();
    }

    function tooltip(id, status) {
      return id + '\n' + status;
    }

    function draw(nodeList, edgeList) {
      var started = now();
      current = layout(nodeList, edgeList, { direction: direction });
      var byId = new Map();
      for (var i = 0; i < nodeList.length; i++) {
        var key = String(nodeList[i].id);
        if (!byId.has(key)) byId.set(key, nodeList[i]);
      }
      while (viewport.firstChild) viewport.removeChild(viewport.firstChild);
      nodeParts = new Map();
      idOfGroup = new WeakMap();
      edgeParts = [];
      edgeKeys = new Set();

      var edgeLayer = svgElement('g', { 'class': 'tl-edges' });
      for (var e = 0; e < current.edges.length; e++) {
        var route = current.edges[e];
        var path = svgElement('path', {
          'class': route.reversed ? 'tl-edge tl-edge-reversed' : 'tl-edge',
          d: pathData(route.points, direction)
        });
        // The arrow points at the task that needs the dependency.
        path.setAttribute(route.reversed ? 'marker-start' : 'marker-end', arrowRef);
        edgeLayer.appendChild(path);
        edgeParts.push({ task: route.task, dependency: route.dependency, path: path });
        edgeKeys.add(edgeKey(route.task, route.dependency));
      }
      var nodeLayer = svgElement('g', { 'class': 'tl-nodes' });
      for (var j = 0; j < current.nodes.length; j++) {
        var box = current.nodes[j];
        var node = byId.get(box.id);
        var status = statusClass(node.status);
        var label = labelOf(node);
        var group = svgElement('g', { 'class': 'tl-node status-' + status, transform: 'translate(' + box.x + ',' + box.y + ')' });
        group.setAttribute('data-id', box.id);
        if (node.family != null) group.setAttribute('data-family', String(node.family));
        var title = svgElement('title');
        title.textContent = tooltip(box.id, status);
        group.appendChild(title);
        group.appendChild(svgElement('rect', { width: box.width, height: box.height, rx: 4, ry: 4 }));
        var text = svgElement('text', { x: LABEL_PADDING, y: box.height / 2, 'dominant-baseline': 'central' });
        text.textContent = truncate(label, box.width);
        group.appendChild(text);
        nodeLayer.appendChild(group);
        nodeParts.set(box.id, { group: group, text: text, title: title, status: status, label: label, width: box.width });
        idOfGroup.set(group, box.id);
      }
      viewport.appendChild(edgeLayer);
      viewport.appendChild(nodeLayer);
      if (selectedId !== null && !nodeParts.has(selectedId)) selectedId = null;
      markSelected(selectedId);
      finish(started, nodeList.length);
    }

    function recolour(nodeList) {
      var started = now();
      for (var i = 0; i < nodeList.length; i++) {
        var node = nodeList[i];
        var parts = nodeParts.get(String(node.id));
        if (!parts) continue;
        var status = statusClass(node.status);
        if (status !== parts.status) {
          parts.group.classList.remove('status-' + parts.status);
          parts.group.classList.add('status-' + status);
          parts.status = status;
          parts.title.textContent = tooltip(String(node.id), status);
        }
        var label = labelOf(node);
        if (label !== parts.label) {
          parts.label = label;
          parts.text.textContent = truncate(label, parts.width);
        }
      }
      finish(started, nodeList.length);
    }

    function finish(started, count) {
      container.dataset.layoutMs = String(Math.round((now() - started) * 10) / 10);
      container.dataset.renderedNodes = String(count);
    }

    function markSelected(id) {
      var previous = container.querySelectorAll('.tl-node.selected, .tl-edge.tl-edge-selected');
      for (var i = 0; i < previous.length; i++) previous[i].classList.remove('selected', 'tl-edge-selected');
      selectedId = id;
      if (id === null) return;
      var parts = nodeParts.get(id);
      if (!parts) return;
      parts.group.classList.add('selected');
      // Keep the selected box above its neighbours' edges and boxes.
      parts.group.parentNode.appendChild(parts.group);
      for (var j = 0; j < edgeParts.length; j++) {
        if (edgeParts[j].task === id || edgeParts[j].dependency === id) edgeParts[j].path.classList.add('tl-edge-selected');
      }
    }

    function sameIds(nodeList) {
      var ids = new Set();
      for (var i = 0; i < nodeList.length; i++) ids.add(String(nodeList[i].id));
      if (ids.size !== nodeParts.size) return false;
      var same = true;
      ids.forEach(function (id) { if (!nodeParts.has(id)) same = false; });
      return same;
    }

    function sameEdges(edgeList) {
      var keys = new Set();
      for (var i = 0; i < edgeList.length; i++) {
        var task = String(edgeList[i][0]);
        var dependency = String(edgeList[i][1]);
        if (task !== dependency && nodeParts.has(task) && nodeParts.has(dependency)) keys.add(edgeKey(task, dependency));
      }
      if (keys.size !== edgeKeys.size) return false;
      var same = true;
      keys.forEach(function (key) { if (!edgeKeys.has(key)) same = false; });
      return same;
    }

    // Pan by dragging (the pointer is captured only once it really drags, so
    // a click still lands on the node under it), zoom by wheel around the cursor.
    var drag = null;
    function onPointerDown(event) {
      if (event.button !== 0) return;
      drag = { x: event.clientX, y: event.clientY, viewX: view.x, viewY: view.y, moved: false, pointer: event.pointerId };
    }
    function onPointerMove(event) {
      if (!drag || event.pointerId !== drag.pointer) return;
      var dx = event.clientX - drag.x;
      var dy = event.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < DRAG_THRESHOLD_PX) return;
      if (!drag.moved) {
        drag.moved = true;
        svg.classList.add('tl-dragging');
        if (svg.setPointerCapture) { try { svg.setPointerCapture(event.pointerId); } catch (ignored) { /* pointer gone */ } }
      }
      view.x = drag.viewX + dx;
      view.y = drag.viewY + dy;
      userMoved = true;
      applyView();
    }
    var justDragged = false;
    function onPointerUp(event) {
      if (!drag || event.pointerId !== drag.pointer) return;
      justDragged = drag.moved;
      drag = null;
      svg.classList.remove('tl-dragging');
    }
    function onWheel(event) {
      event.preventDefault();
      var scale = event.deltaMode === 1 ? 0.05 : event.deltaMode === 2 ? 1 : 0.0015;
      var k = Math.max(zoomRange.min, Math.min(zoomRange.max, view.k * Math.exp(-event.deltaY * scale)));
      var bounds = svg.getBoundingClientRect();
      var px = event.clientX - bounds.left;
      var py = event.clientY - bounds.top;
      view.x = px - (px - view.x) * (k / view.k);
      view.y = py - (py - view.y) * (k / view.k);
      view.k = k;
      userMoved = true;
      applyView();
    }
    function onClick(event) {
      if (justDragged) { justDragged = false; return; }
      var target = event.target;
      var group = target && target.closest ? target.closest('.tl-node') : null;
      if (!group || !idOfGroup.has(group)) return;
      var id = idOfGroup.get(group);
      markSelected(id);
      if (onSelect) onSelect(id);
    }
    svg.addEventListener('pointerdown', onPointerDown);
    svg.addEventListener('pointermove', onPointerMove);
    svg.addEventListener('pointerup', onPointerUp);
    svg.addEventListener('pointercancel', onPointerUp);
    svg.addEventListener('wheel', onWheel, { passive: false });
    svg.addEventListener('click', onClick);

    draw(nodes || [], edges || []);
    fit();

    return {
      update: function (newNodes, newEdges) {
        newNodes = newNodes || [];
        newEdges = newEdges || [];
        if (sameIds(newNodes)) {
          if (sameEdges(newEdges)) recolour(newNodes);
          else draw(newNodes, newEdges);
          return;
        }
        draw(newNodes, newEdges);
        if (!userMoved) fit();
      },
      fit: fit,
      select: function (id) { markSelected(id == null ? null : String(id)); },
      destroy: function () {
        svg.removeEventListener('wheel', onWheel);
        if (svg.parentNode) svg.parentNode.removeChild(svg);
        delete container.dataset.renderedNodes;
        delete container.dataset.layoutMs;
        nodeParts = new Map();
        edgeParts = [];
      }
    };
  }

  window.TrunklineGraph = { render: render, layout: layout };
})();
