// The search page's glue around Pagefind's Component UI (loaded before this file):
// the address holds the search (?q=tariff&country=Japan&year=2025&sort=newest), so a
// search can be shared and the header's plain form (GET /search/?q=…) lands on results;
// and a sort select, which the Component UI does not offer, reorders the results.
(function () {
  "use strict";
  var root = document.querySelector("[data-search-filters]");
  if (!root || !window.PagefindComponents) return;
  var filterNames = root.getAttribute("data-search-filters").split(" ");
  var sortSelect = document.getElementById("search-sort");
  var sorts = { newest: { date: "desc" }, oldest: { date: "asc" } };
  var instance = window.PagefindComponents.getInstanceManager().getInstance("default");

  function readAddress() {
    var params = new URLSearchParams(window.location.search);
    var filters = {};
    filterNames.forEach(function (name) {
      var values = params.getAll(name).filter(Boolean);
      if (values.length) filters[name] = values;
    });
    var sort = params.get("sort") || "";
    return { term: (params.get("q") || "").trim(), filters: filters, sort: sorts[sort] ? sort : "" };
  }

  function writeAddress(term, filters) {
    var params = new URLSearchParams();
    if (term) params.set("q", term);
    filterNames.forEach(function (name) {
      ((filters || {})[name] || []).slice().sort().forEach(function (value) { params.append(name, value); });
    });
    if (sortSelect.value) params.set("sort", sortSelect.value);
    var query = params.toString();
    var address = window.location.pathname + (query ? "?" + query : "");
    if (address !== window.location.pathname + window.location.search) {
      window.history.replaceState(null, "", address);
    }
  }

  // Every search the UI runs goes through Pagefind's search(); add the chosen sort there.
  // With no query there is nothing to rank by, so browsing lists the newest first.
  function addSort(pagefind) {
    if (!pagefind || pagefind.__sortAdded) return;
    var search = pagefind.search.bind(pagefind);
    pagefind.search = function (term, options) {
      var sort = sorts[sortSelect.value] || (term ? null : sorts.newest);
      return search(term, sort ? Object.assign({}, options, { sort: sort }) : options);
    };
    pagefind.__sortAdded = true;
  }

  var start = readAddress();
  sortSelect.value = start.sort;
  instance.on("filters", function () { addSort(instance.__pagefind__); });
  instance.on("search", function (term, filters) { writeAddress(term, filters); });
  sortSelect.addEventListener("change", function () {
    instance.triggerSearchWithFilters(instance.searchTerm || "", instance.searchFilters || {});
  });
  // Browsing (no query) lists every article, but it makes Pagefind fetch the whole word
  // index; a query fetches only its chunk. So "faceted" (browse on an empty query) is
  // switched on only after the first search, which is the address's own.
  instance.triggerLoad().then(function () {
    addSort(instance.__pagefind__);
    instance.faceted = true;
    instance.triggerSearchWithFilters(start.term, start.filters);
  });
})();
