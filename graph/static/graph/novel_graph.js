/* The graph page: draws the novel's graph (data.json) with vis-network and filters it in the browser.
 *
 * Spoiler safety: with the chapter slider at N, a character appears once first_chapter <= N, a relation
 * once its first_chapter <= N, its type is the one of the phase covering N (else of the latest phase
 * started by N; before any phase: 共现; a relation without phases shows its own type), and evidence
 * comes only from chapters <= N. Text from the novel is only ever set with textContent.
 */
(function () {
  "use strict";

  const TYPE_COLORS = {
    master: "#1f77b4", fellow: "#17becf", kin: "#8c564b", lovers: "#e377c2", sworn: "#bcbd22",
    ally: "#2ca02c", lord: "#9467bd", enemy: "#d62728", cooccur: "#a8a8a8",
  };
  const COMMUNITY_COLORS = [
    ["#aec7e8", "#1f77b4"], ["#ffbb78", "#ff7f0e"], ["#98df8a", "#2ca02c"], ["#ff9896", "#d62728"],
    ["#c5b0d5", "#9467bd"], ["#c49c94", "#8c564b"], ["#f7b6d2", "#e377c2"], ["#dbdb8d", "#bcbd22"],
    ["#9edae5", "#17becf"], ["#d9d9d9", "#7f7f7f"],
  ];
  const HINT = "点击人物查看属性与别名，点击关系查看演变时间线与原文依据。";
  const BIG = 300; // nodes: above this, a shorter layout and no edges while dragging
  // Labels: world font size by importance (min..max, like vis's label scaling); a label is drawn
  // when it is at least `threshold` px on screen. The most important visible nodes keep a label of
  // `screen`..`screen + 4` px at every zoom (see `relabel`).
  const LABEL = { min: 14, max: 30, threshold: 7, screen: 13, maxVisible: 30 };
  const labelledCount = (n) => Math.min(n, 12 + Math.round(Math.sqrt(n)));
  const COMMUNITY_MIN = 3; // smaller communities are left out of the legend
  const FIT_DELAY = 150; // ms after the last filter change before the view is refitted
  const $ = (id) => document.getElementById(id);
  const config = JSON.parse($("graph-config").textContent);
  const state = { data: null, network: null, nodes: null, edges: null, shown: new Map(),
    edgeLook: new Map(), placed: new Set(), selected: null, types: null, directed: null,
    importance: [], fontSize: new Map(), important: new Set(), labelScale: null, ready: false,
    fitTimer: null };

  /** An element with attributes and children; strings become text nodes (never parsed as HTML). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "style") Object.assign(node.style, value);
      else node.setAttribute(key, value);
    }
    for (const child of children.flat(Infinity)) {
      if (child !== null && child !== undefined && child !== false) {
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
    }
    return node;
  }

  function typeAt(edge, n) {
    const phases = (edge.phases || []).slice().sort((a, b) => a.from - b.from);
    if (!phases.length) return edge.type_code;
    let covering = null;
    let started = null;
    for (const phase of phases) {
      if (phase.from <= n) {
        started = phase;
        if (n <= phase.to) covering = phase;
      }
    }
    const phase = covering || started;
    return phase ? phase.type_code : state.data.default_type;
  }

  const seen = (chapter, n) => chapter === null || chapter === undefined || chapter <= n;
  const chapter = () => Number($("graph-chapter").value);
  const communityColor = (id) => COMMUNITY_COLORS[id % COMMUNITY_COLORS.length];
  const label = (code) => (state.types.get(code) || { label: code }).label;

  /** Which nodes and edges show at the current control values, and each edge's type. */
  function visible() {
    const n = chapter();
    const minCo = Number($("graph-min-cooccurrence").value) || 0;
    const checked = new Set([...document.querySelectorAll("#graph-legend input:checked")]
      .map((box) => box.value));
    const nodes = new Set();
    state.data.nodes.forEach((node, i) => { if (seen(node.first_chapter, n)) nodes.add(i); });
    const edges = new Map();
    const linked = new Set();
    state.data.edges.forEach((edge, i) => {
      const type = typeAt(edge, n);
      if (seen(edge.first_chapter, n) && nodes.has(edge.s) && nodes.has(edge.t)
          && edge.cooccurrences >= minCo && checked.has(type)) {
        edges.set(i, type);
        linked.add(edge.s).add(edge.t);
      }
    });
    if ($("graph-hide-isolated").checked) for (const i of [...nodes]) if (!linked.has(i)) nodes.delete(i);
    return { nodes, edges, n };
  }

  function edgeLook(edge, type) {
    const color = TYPE_COLORS[type] || "#666";
    return {
      color: { color, highlight: color, hover: color, opacity: type === "cooccur" ? 0.5 : 0.75 },
      dashes: type === "cooccur",
      arrows: { to: { enabled: state.directed.has(type), scaleFactor: 0.6 } },
      title: el("div", {}, `${edge.source} — ${edge.target}：${label(type)}（共现 ${edge.cooccurrences} 次）`),
    };
  }

  /** Update only what changed since the last call; then counts, legend and panel. */
  function apply() {
    const view = visible();
    const nodeUpdates = [];
    state.data.nodes.forEach((_, i) => {
      const show = view.nodes.has(i);
      if (state.shown.get(i) === show) return;
      state.shown.set(i, show);
      nodeUpdates.push({ id: i, hidden: !show });
    });
    placeNew([...view.nodes].filter((i) => !state.placed.has(i)));
    const edgeUpdates = [];
    state.data.edges.forEach((edge, i) => {
      const type = view.edges.get(i);
      const key = type === undefined ? "hidden" : type;
      if (state.edgeLook.get(i) === key) return;
      state.edgeLook.set(i, key);
      const look = type === undefined ? {} : edgeLook(edge, type);
      edgeUpdates.push({ id: i, hidden: type === undefined, ...look });
    });
    state.nodes.update(nodeUpdates);
    state.edges.update(edgeUpdates);
    if (nodeUpdates.length) {
      markImportant(view.nodes);
      if (state.ready) refitSoon();
    }
    $("graph-chapter-value").textContent = String(view.n);
    const box = $("graph-canvas");
    box.dataset.nodeCount = String(view.nodes.size);
    box.dataset.edgeCount = String(view.edges.size);
    box.dataset.chapter = String(view.n);
    $("graph-status").textContent = `显示 ${view.nodes.size} 位人物、${view.edges.size} 条关系`
      + `（共 ${state.data.nodes.length} 位人物、${state.data.edges.length} 条关系）`;
    showCommunities(view.nodes);
    const s = state.selected; // what the controls hide is not described either (spoilers)
    if (s && !(s.kind === "node" ? view.nodes : view.edges).has(s.id)) state.selected = null;
    showSelected();
  }

  /** Widen a layout that is rounder than the canvas, so it uses the width and labels overlap less. */
  function stretch(network, ids) {
    const positions = network.getPositions(ids);
    const points = Object.entries(positions);
    if (points.length < 3) return;
    const xs = points.map(([, p]) => p.x);
    const ys = points.map(([, p]) => p.y);
    const width = Math.max(...xs) - Math.min(...xs) || 1;
    const height = Math.max(...ys) - Math.min(...ys) || 1;
    const box = $("graph-canvas");
    const factor = Math.min(1.8, (box.clientWidth / box.clientHeight) / (width / height));
    if (factor <= 1.05) return;
    // One DataSet update, one redraw (network.moveNode redraws once per node).
    state.nodes.update(points.map(([id, p]) => ({ id: Number(id), x: p.x * factor, y: p.y })));
  }

  /** Nodes never laid out (hidden during the first layout) go in rows under the drawing. */
  function placeNew(ids) {
    if (!ids.length || !state.network) return;
    const known = Object.values(state.network.getPositions([...state.placed]));
    const xs = known.map((p) => p.x);
    const left = xs.length ? Math.min(...xs) : 0;
    const width = xs.length ? Math.max(Math.max(...xs) - left, 600) : 600;
    let y = known.length ? Math.max(...known.map((p) => p.y)) + 120 : 0;
    const perRow = Math.max(1, Math.floor(width / 90));
    state.nodes.update(ids.map((id, k) => {
      state.placed.add(id);
      return { id, x: left + (k % perRow) * 90, y: y + Math.floor(k / perRow) * 70 };
    }));
  }

  /** World font size of node i: LABEL.min..LABEL.max by importance (as its size is). */
  function baseFont(i) {
    return LABEL.min + (LABEL.max - LABEL.min) * state.importance[i];
  }

  /** The most important visible nodes, whose labels show at every zoom. */
  function markImportant(nodeIds) {
    const ranked = [...nodeIds].sort((a, b) => state.importance[b] - state.importance[a]);
    state.important = new Set(ranked.slice(0, labelledCount(ranked.length)));
    state.labelScale = null; // relabel at the next drawing
  }

  /** Give the important nodes a font that reads LABEL.screen px or more at the current zoom. */
  function relabel() {
    const scale = state.network.getScale();
    state.labelScale = scale;
    const updates = [];
    state.data.nodes.forEach((_, i) => {
      const base = baseFont(i);
      const want = state.important.has(i)
        ? Math.max(base, (LABEL.screen + 4 * state.importance[i]) / scale) : base;
      if (Math.abs((state.fontSize.get(i) || 0) - want) < 0.01) return;
      state.fontSize.set(i, want);
      updates.push({ id: i, font: { size: want } });
    });
    if (updates.length) state.nodes.update(updates);
  }

  /** Refit the view on the visible nodes shortly after the filters stop changing. */
  function refitSoon() {
    const box = $("graph-canvas");
    box.dataset.fitted = "false";
    clearTimeout(state.fitTimer);
    state.fitTimer = setTimeout(() => {
      const ids = [...visible().nodes];
      if (!ids.length) { box.dataset.fitted = "true"; return; }
      state.network.once("animationFinished", () => { box.dataset.fitted = "true"; });
      state.network.fit({ nodes: ids, maxZoomLevel: 2,
        animation: { duration: 300, easingFunction: "easeInOutQuad" } });
    }, FIT_DELAY);
  }

  /** Name each community by its most important members that are names, not role words
   *  (长子, 夫人); communities under COMMUNITY_MIN visible members, or of role words only, are
   *  left out. */
  function showCommunities(nodeIds) {
    const groups = new Map();
    for (const i of nodeIds) {
      const node = state.data.nodes[i];
      if (!groups.has(node.community)) groups.set(node.community, []);
      groups.get(node.community).push(i);
    }
    const rows = [];
    let skipped = 0;
    for (const [id, members] of [...groups].sort((a, b) => b[1].length - a[1].length || a[0] - b[0])) {
      const named = members.filter((i) => !state.data.nodes[i].role_word)
        .sort((a, b) => state.importance[b] - state.importance[a]);
      if (members.length < COMMUNITY_MIN || !named.length || rows.length >= 12) skipped += 1;
      else rows.push([id, members.length, named.slice(0, 3).map((i) => state.data.nodes[i].name)]);
    }
    $("graph-communities").replaceChildren(
      el("span", { class: "graph-caption" }, "节点颜色 = 社群，大小 = 加权度："),
      ...rows.map(([id, size, names]) => {
        const [fill, border] = communityColor(id);
        return el("span", { class: "graph-community", "data-community": String(id) },
          el("i", { class: "graph-swatch", style: { background: fill, borderColor: border } }),
          `${names.join("、")}等 ${size} 人`);
      }),
      ...(skipped ? [el("span", { class: "graph-caption" }, `另有 ${skipped} 个小社群未列出`)] : []));
  }

  function fact(term, value) {
    if (value === null || value === undefined || value === "") return [];
    return [el("dt", {}, term), el("dd", {}, value)];
  }

  function showNode(i) {
    const node = state.data.nodes[i];
    const names = new Set([node.name, ...(node.aliases || [])]);
    // The model's list of aliases shows only where it adds a name the 别名 row lacks.
    const attributes = Object.entries(node.attributes || {}).filter(([k, v]) => v
      && !(k === "aliases" && String(v).split("、").every((a) => names.has(a))));
    return [
      el("h2", {}, node.name),
      el("dl", {},
        fact("别名", (node.aliases || []).join("、") || "—"),
        fact("提及次数", node.mentions),
        fact("首次出现", node.first_chapter ? `第 ${node.first_chapter} 章` : null),
        fact("度（关系数）", node.degree),
        fact("加权度（共现合计）", node.weighted_degree),
        fact("介数中心性", Number(node.betweenness).toFixed(4)),
        fact("社群", `#${node.community}`),
        attributes.map(([k, v]) => fact(config.attribute_labels[k] || k, v))),
      el("p", {}, el("a", { href: node.admin_url }, "在后台查看或编辑此人物")),
    ];
  }

  function showEdge(i, n) {
    const edge = state.data.edges[i];
    const type = typeAt(edge, n);
    const known = seen(edge.last_chapter, n); // the whole relation has been read
    const phases = (edge.phases || []).filter((p) => p.from <= n).sort((a, b) => a.from - b.from);
    const snippets = (edge.snippets || []).filter((s) => s && s.chapter <= n);
    const span = (p) => `第 ${p.from}–${p.to > n ? `${n}…` : p.to} 章`;
    return [
      el("h2", {}, `${edge.source} — ${edge.target}`),
      el("p", {}, "当前关系（截至第 ", String(n), " 章）：",
        el("span", { class: "graph-badge", style: { background: TYPE_COLORS[type] } }, label(type))),
      el("dl", {},
        fact("全书总体关系", known ? edge.type : null),
        fact("置信度", Number(edge.confidence).toFixed(2)),
        fact("共现次数", edge.cooccurrences),
        fact("首次共现", edge.first_chapter ? `第 ${edge.first_chapter} 章` : null),
        fact("最后共现", known && edge.last_chapter ? `第 ${edge.last_chapter} 章` : null)),
      el("h3", {}, "关系演变"),
      phases.length
        ? el("ol", { class: "graph-timeline" }, phases.map((p) => el("li",
          { class: p.from <= n && n <= p.to ? "current" : "" },
          el("span", { class: "graph-badge", style: { background: TYPE_COLORS[p.type_code] } }, p.type),
          ` ${span(p)}`, p.event ? el("div", { class: "graph-event" }, p.event) : null)))
        : el("p", { class: "graph-hint" },
          edge.phases && edge.phases.length ? "本章之前尚无关系变化的记录。" : "没有关系演变记录。"),
      known && edge.evidence
        ? [el("h3", {}, "判断依据"), el("p", { class: "graph-evidence" }, edge.evidence)] : [],
      el("h3", {}, `原文片段（第 ${n} 章及以前）`),
      snippets.length
        ? el("ul", { class: "graph-snippets" },
          snippets.map((s) => el("li", {}, el("b", {}, `第 ${s.chapter} 章：`), s.text)))
        : el("p", { class: "graph-hint" }, "暂无。"),
    ];
  }

  function select(kind, id) {
    state.selected = id === null || id === undefined ? null : { kind, id };
    showSelected();
  }

  function showSelected() {
    const panel = $("graph-panel");
    const s = state.selected;
    panel.dataset.kind = s ? s.kind : "";
    if (!s) return panel.replaceChildren(el("p", { class: "graph-hint" }, HINT));
    const parts = s.kind === "node" ? showNode(s.id) : showEdge(s.id, chapter());
    panel.replaceChildren(...parts.flat(Infinity));
  }

  function buildLegend() {
    const legend = $("graph-legend");
    for (const type of state.data.types) {
      const box = el("input", { type: "checkbox", value: type.code, checked: "" });
      box.addEventListener("change", apply);
      legend.append(el("label", { class: "graph-type" }, box,
        el("i", { class: "graph-swatch", style: { background: TYPE_COLORS[type.code] } }), type.label));
    }
  }

  /** Sizes by importance, legible labels; a short layout, then no physics (see `finish`). */
  function networkOptions(count) {
    const big = count > BIG;
    return {
      layout: { improvedLayout: count <= 100, randomSeed: 7 },
      nodes: {
        shape: "dot", borderWidth: 1.5,
        scaling: { min: 10, max: 42, label: { enabled: false, drawThreshold: LABEL.threshold,
          maxVisible: LABEL.maxVisible } },
        font: { face: "system-ui, 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', 'Microsoft YaHei', "
          + "sans-serif", color: "#222", strokeWidth: 4, strokeColor: "#ffffff" },
      },
      edges: { scaling: { min: 1, max: 7 }, smooth: big ? false : { type: "continuous" },
        selectionWidth: 2, hoverWidth: 1 },
      physics: {
        solver: "forceAtlas2Based",
        forceAtlas2Based: { gravitationalConstant: -110, springLength: 120, springConstant: 0.05,
          avoidOverlap: 0.8 },
        stabilization: { iterations: big ? 120 : 400, updateInterval: 50 },
      },
      interaction: { hover: true, tooltipDelay: 150, hideEdgesOnDrag: big, hideEdgesOnZoom: big },
    };
  }

  function draw(data) {
    state.data = data;
    state.types = new Map(data.types.map((t) => [t.code, t]));
    state.directed = new Set(data.types.filter((t) => t.directed).map((t) => t.code));
    const index = new Map(data.nodes.map((node, i) => [node.id, i]));
    const values = data.nodes.map((node) => Math.sqrt(Math.max(node.weighted_degree, 1)));
    const low = Math.min(...values);
    const high = Math.max(...values);
    state.importance = values.map((v) => (high > low ? (v - low) / (high - low) : 0.5));
    data.edges.forEach((edge) => { edge.s = index.get(edge.source); edge.t = index.get(edge.target); });
    const slider = $("graph-chapter");
    const firsts = [...data.nodes, ...data.edges].map((item) => item.first_chapter || 0);
    slider.max = String(Math.max(1, data.novel.chapters, ...firsts));
    slider.value = slider.max;
    slider.disabled = false;
    buildLegend();
    const view = visible();
    state.nodes = new vis.DataSet(data.nodes.map((node, i) => {
      const [fill, border] = communityColor(node.community);
      const show = view.nodes.has(i);
      state.shown.set(i, show);
      if (show) state.placed.add(i);
      const aliases = (node.aliases || []).join("、");
      state.fontSize.set(i, baseFont(i));
      return {
        id: i, label: node.name, value: values[i], font: { size: baseFont(i) },
        hidden: !show, physics: show, title: el("div", {}, aliases ? `${node.name}（${aliases}）` : node.name),
        color: { background: fill, border, highlight: { background: fill, border: "#000" } },
      };
    }));
    state.edges = new vis.DataSet(data.edges.map((edge, i) => {
      const type = view.edges.get(i);
      state.edgeLook.set(i, type === undefined ? "hidden" : type);
      const look = type === undefined ? {} : edgeLook(edge, type);
      return { id: i, from: edge.s, to: edge.t, value: Math.sqrt(edge.cooccurrences || 1),
        hidden: type === undefined, physics: type !== undefined, ...look };
    }));
    const network = new vis.Network($("graph-canvas"), { nodes: state.nodes, edges: state.edges },
      networkOptions(data.nodes.length));
    state.network = network;
    markImportant(view.nodes);
    network.on("afterDrawing", () => {
      if (network.getScale() !== state.labelScale) requestAnimationFrame(relabel);
    });
    const fit = () => network.fit({ nodes: [...visible().nodes], maxZoomLevel: 2 });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      network.setOptions({ physics: false });
      stretch(network, [...state.placed]);
      apply();
      fit();
      state.ready = true;
      $("graph-canvas").dataset.fitted = "true";
      $("graph-canvas").dataset.ready = "true";
    };
    network.once("stabilizationIterationsDone", finish);
    setTimeout(finish, 20000); // never leave the page waiting
    network.on("click", (params) => {
      if (params.nodes.length) select("node", params.nodes[0]);
      else if (params.edges.length) select("edge", params.edges[0]);
      else select(null, null);
    });
    let pending = false;
    const later = () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; apply(); });
    };
    slider.addEventListener("input", later);
    $("graph-min-cooccurrence").addEventListener("input", later);
    $("graph-hide-isolated").addEventListener("change", apply);
    $("graph-fit").addEventListener("click", fit);
    window.novelGraph = {
      network, nodes: state.nodes, edges: state.edges, data, typeAt, apply, relabel,
      important: () => [...state.important].map((i) => data.nodes[i].name),
      setChapter(n) { slider.value = String(n); apply(); },
      selectNode(i) { network.selectNodes([i]); select("node", i); },
      selectEdge(i) { network.selectEdges([i]); select("edge", i); },
      edgeIndex(source, target) {
        return data.edges.findIndex((e) => e.source === source && e.target === target);
      },
    };
  }

  fetch(config.data_url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    })
    .then(draw)
    .catch((error) => { $("graph-status").textContent = `图谱加载失败：${error.message}`; });
})();
