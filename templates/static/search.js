// The search page: a form, filters with counts, one list of results in pages. The address
// holds the search (?q=tariff&country=Japan&year=2025&sort=newest&page=2), so a search can
// be shared and the header's plain form (GET /search/?q=…) lands on results. The index is
// searched by search-worker.js (every shard as one archive, off the main thread); this file
// only draws what it answers.
(function () {
  "use strict";
  var root = document.querySelector("[data-search]");
  if (!root || !window.Worker) return;
  var form = root.querySelector(".search-form");
  var input = root.querySelector("#search-q");
  var sortSelect = root.querySelector("#search-sort");
  var countLine = root.querySelector("[data-search-count]");
  var list = root.querySelector(".search-results");
  var pager = root.querySelector(".search-pages");
  var active = root.querySelector(".search-active");
  var activeList = root.querySelector(".search-active-list");
  var facetsBox = root.querySelector(".search-facets");
  var filtersBox = root.querySelector(".search-filters");
  var pageSize = parseInt(root.getAttribute("data-page-size"), 10) || 20;
  var COLLAPSED = 8; // values a long facet shows until "Show all"
  // name:Legend:plural:singular for each filter (the template says which and how to name them)
  var facets = facetsBox.getAttribute("data-facets").split(" ").map(function (spec) {
    var parts = spec.split(":");
    return { name: parts[0], legend: parts[1], plural: parts[2], singular: parts[3], values: {}, open: false };
  });
  var names = facets.map(function (f) { return f.name; });
  var state = readAddress();
  var searchId = 0;
  var timer = 0;
  var number = new Intl.NumberFormat(document.documentElement.lang || "en");

  var worker = new Worker(root.getAttribute("data-worker"), { type: "module" });
  worker.postMessage({ type: "init", bundle: root.getAttribute("data-bundle"), base: root.getAttribute("data-base") });
  worker.addEventListener("message", function (event) {
    var message = event.data;
    if (message.type === "ready") {
      // Every value of each filter; the counts come with the results (drawn once, with them).
      facets.forEach(function (facet) { facet.all = message.filters[facet.name] || {}; });
    } else if (message.type === "results" && message.id === searchId) {
      draw(message);
    } else if (message.type === "counts" && message.id === searchId) {
      drawFacets(message.counts);
    } else if (message.type === "error" && (message.id === searchId || message.id === 0)) {
      root.removeAttribute("aria-busy");
      countLine.textContent = "The search is not available: " + message.message;
    }
  });
  worker.addEventListener("error", function () {
    countLine.textContent = "The search is not available in this browser.";
  });

  function readAddress() {
    var params = new URLSearchParams(window.location.search);
    var filters = {};
    names.forEach(function (name) {
      var values = params.getAll(name).filter(Boolean);
      if (values.length) filters[name] = values;
    });
    var sort = params.get("sort") || "";
    return { term: (params.get("q") || "").trim(), filters: filters,
             sort: /^(newest|oldest)$/.test(sort) ? sort : "", page: Math.max(1, parseInt(params.get("page"), 10) || 1) };
  }

  function address(s) {
    var params = new URLSearchParams();
    if (s.term) params.set("q", s.term);
    names.forEach(function (name) {
      (s.filters[name] || []).slice().sort().forEach(function (value) { params.append(name, value); });
    });
    if (s.sort) params.set("sort", s.sort);
    if (s.page > 1) params.set("page", String(s.page));
    var query = params.toString();
    return window.location.pathname + (query ? "?" + query : "");
  }

  function search(changes, push) {
    Object.keys(changes || {}).forEach(function (k) { state[k] = changes[k]; });
    var target = address(state);
    if (target !== window.location.pathname + window.location.search) {
      window.history[push ? "pushState" : "replaceState"](null, "", target);
    }
    searchId += 1;
    root.setAttribute("aria-busy", "true");
    filtersBox.setAttribute("aria-busy", "true");
    worker.postMessage({ type: "search", id: searchId, term: state.term, filters: state.filters,
                         sort: state.sort, page: state.page, size: pageSize });
    drawActive();
  }

  // -- drawing ------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  // Pagefind's excerpt is escaped text with <mark> around the matched words: rebuilt
  // as text nodes and <mark> elements, never parsed as HTML.
  function excerptNodes(excerpt) {
    var nodes = [];
    String(excerpt || "").split(/(<mark>|<\/mark>)/).reduce(function (inMark, part) {
      if (part === "<mark>") return true;
      if (part === "</mark>") return false;
      if (part) {
        var text = document.createTextNode(part.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"));
        nodes.push(inMark ? el("mark", {}, [text]) : text);
      }
      return inMark;
    }, false);
    return nodes;
  }

  function draw(message) {
    root.removeAttribute("aria-busy");
    state.page = message.page;
    var count = number.format(message.total);
    var what = message.total === 1 ? " article" : " articles";
    var about = state.term ? " match \u201c" + state.term + "\u201d" : (hasFilters() ? " match the filters" : " in the archive");
    countLine.textContent = "";
    countLine.appendChild(el("strong", { text: count }));
    countLine.appendChild(document.createTextNode(what + about +
      (message.pages > 1 ? " \u2014 page " + message.page + " of " + number.format(message.pages) : "")));
    list.setAttribute("start", String((message.page - 1) * pageSize + 1));
    list.replaceChildren.apply(list, message.results.map(function (r) {
      return el("li", { "class": "search-result" }, [
        el("h3", { "class": "search-result-title" }, [el("a", { href: r.url, dir: "auto", text: r.title })]),
        r.date ? el("p", { "class": "search-result-date" }, [el("time", { datetime: r.datetime || "", text: r.date })]) : null,
        r.excerpt ? el("p", { "class": "search-result-excerpt", dir: "auto" }, excerptNodes(r.excerpt)) : null,
      ]);
    }));
    drawPager(message);
    if (message.counts) drawFacets(message.counts);
  }

  function drawPager(message) {
    pager.hidden = message.pages < 2;
    pager.replaceChildren();
    if (message.pages < 2) return;
    function link(page, label, rel) {
      if (page < 1 || page > message.pages) return el("span", { "class": "search-page-off", "aria-hidden": "true", text: label });
      var a = el("a", { href: address(Object.assign({}, state, { page: page })), text: label, "data-page": String(page) });
      if (rel) a.setAttribute("rel", rel);
      return a;
    }
    pager.appendChild(link(message.page - 1, "\u2190 Previous", "prev"));
    pager.appendChild(el("span", { "class": "search-page-now", text: "Page " + message.page + " of " + number.format(message.pages) }));
    pager.appendChild(link(message.page + 1, "Next \u2192", "next"));
  }

  function hasFilters() {
    return names.some(function (n) { return (state.filters[n] || []).length; });
  }

  function drawActive() {
    var items = [];
    facets.forEach(function (facet) {
      (state.filters[facet.name] || []).forEach(function (value) {
        var button = el("button", { type: "button", "class": "search-chip",
                                    "aria-label": "Remove filter " + facet.legend + ": " + value },
                        [el("span", { text: facet.legend + ": " + value }), el("span", { "aria-hidden": "true", text: " \u00d7" })]);
        button.addEventListener("click", function () { toggle(facet.name, value, false, true); });
        items.push(el("li", {}, [button]));
      });
    });
    if (items.length > 1) {
      var clear = el("button", { type: "button", "class": "search-chip search-chip-clear", text: "Clear all filters" });
      clear.addEventListener("click", function () { search({ filters: {}, page: 1 }, true); input.focus(); });
      items.push(el("li", {}, [clear]));
    }
    active.hidden = items.length === 0;
    activeList.replaceChildren.apply(activeList, items);
  }

  function toggle(name, value, on, focusInput) {
    var values = (state.filters[name] || []).filter(function (v) { return v !== value; });
    if (on) values.push(value);
    var filters = Object.assign({}, state.filters);
    if (values.length) filters[name] = values; else delete filters[name];
    search({ filters: filters, page: 1 }, true);
    if (focusInput) {
      var box = document.getElementById("facet-" + name + "-" + slug(value));
      (box || input).focus();
    }
  }

  function slug(value) {
    return String(value).toLowerCase().replace(/[^a-z0-9]+/g, "-");
  }

  // Each facet: a fieldset of checkboxes with counts, the values with results first; a
  // long one shows COLLAPSED values until "Show all" and has a box to find a value by name.
  function drawFacets(counts) {
    filtersBox.removeAttribute("aria-busy");
    facets.forEach(function (facet) {
      var fieldset = facetsBox.querySelector('[data-facet="' + facet.name + '"]');
      if (!fieldset) {
        fieldset = buildFacet(facet);
        facetsBox.appendChild(fieldset);
      }
      var chosen = state.filters[facet.name] || [];
      var known = counts[facet.name] || {};
      var values = Object.keys(facet.all || {});
      chosen.forEach(function (v) { if (values.indexOf(v) < 0) values.push(v); });
      var rows = values.map(function (value) {
        return { value: value, count: known[value] || 0, chosen: chosen.indexOf(value) >= 0 };
      }).filter(function (row) { return row.count > 0 || row.chosen; });
      rows.sort(facet.name === "year"
        ? function (a, b) { return b.value.localeCompare(a.value); }
        : function (a, b) { return (b.chosen - a.chosen) || (b.count - a.count) || a.value.localeCompare(b.value); });
      facet.rows = rows;
      renderRows(facet, fieldset);
    });
  }

  function buildFacet(facet) {
    var fieldset = el("fieldset", { "class": "facet", "data-facet": facet.name });
    fieldset.appendChild(el("legend", { text: facet.legend }));
    var findId = "facet-" + facet.name + "-find";
    facet.find = el("input", { type: "search", id: findId, "class": "facet-find", autocomplete: "off",
                               "aria-controls": "facet-" + facet.name + "-values" });
    facet.findRow = el("p", { "class": "facet-find-row" },
                       [el("label", { "for": findId, text: "Type to find a " + facet.singular }), facet.find]);
    facet.find.addEventListener("input", function () { renderRows(facet, fieldset); });
    fieldset.appendChild(facet.findRow);
    facet.list = el("ul", { "class": "facet-values", id: "facet-" + facet.name + "-values" });
    fieldset.appendChild(facet.list);
    facet.more = el("button", { type: "button", "class": "facet-more", "aria-expanded": "false",
                                "aria-controls": "facet-" + facet.name + "-values" });
    facet.more.addEventListener("click", function () {
      facet.open = !facet.open;
      renderRows(facet, fieldset);
    });
    fieldset.appendChild(facet.more);
    facet.empty = el("p", { "class": "facet-empty", text: "No " + facet.plural + " match." });
    fieldset.appendChild(facet.empty);
    return fieldset;
  }

  function renderRows(facet, fieldset) {
    var rows = facet.rows || [];
    var needle = facet.find.value.trim().toLowerCase();
    var long = rows.length > COLLAPSED;
    facet.findRow.hidden = !long;
    var matching = needle ? rows.filter(function (r) { return r.value.toLowerCase().indexOf(needle) >= 0; }) : rows;
    var shown = needle || facet.open || !long ? matching : matching.slice(0, COLLAPSED);
    // Checked values always stay in view.
    rows.forEach(function (r) { if (r.chosen && shown.indexOf(r) < 0) shown.push(r); });
    var focused = document.activeElement && facet.list.contains(document.activeElement) ? document.activeElement.id : "";
    facet.list.replaceChildren.apply(facet.list, shown.map(function (row) {
      var id = "facet-" + facet.name + "-" + slug(row.value);
      var box = el("input", { type: "checkbox", id: id, name: facet.name, value: row.value });
      box.checked = row.chosen;
      box.addEventListener("change", function () { toggle(facet.name, row.value, box.checked); });
      return el("li", {}, [box, el("label", { "for": id }, [
        document.createTextNode(row.value + " "),
        el("span", { "class": "facet-count", text: number.format(row.count) }),
      ])]);
    }));
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    facet.more.hidden = !long || !!needle;
    facet.more.setAttribute("aria-expanded", facet.open ? "true" : "false");
    facet.more.textContent = facet.open ? "Show fewer " + facet.plural
      : "Show all " + number.format(rows.length) + " " + facet.plural;
    facet.empty.hidden = !(needle && matching.length === 0);
    fieldset.hidden = rows.length === 0;
  }

  // -- events -------------------------------------------------------------------------
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.clearTimeout(timer);
    search({ term: input.value.trim(), page: 1 }, true);
  });
  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      if (input.value.trim() !== state.term) search({ term: input.value.trim(), page: 1 }, false);
    }, 300);
  });
  sortSelect.addEventListener("change", function () { search({ sort: sortSelect.value, page: 1 }, true); });
  pager.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-page]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button) return;
    event.preventDefault();
    search({ page: parseInt(link.getAttribute("data-page"), 10) }, true);
    countLine.focus();
  });
  window.addEventListener("popstate", function () {
    state = readAddress();
    input.value = state.term;
    sortSelect.value = state.sort;
    search({}, false);
  });

  input.value = state.term;
  sortSelect.value = state.sort;
  countLine.textContent = "Searching\u2026";
  search({}, false);
})();
