// The search page's worker (a module worker started by search.js): searches every shard of
// the index as one archive, off the main thread.
//
// builder/search.py writes the index as date shards (pagefind/shards/<name>/, one Pagefind
// bundle each) and a manifest, pagefind/shards.json: the shards newest first, their sizes,
// every filter value with its count. Here each shard gets one of Pagefind's own
// PagefindInstance objects (pagefind.js, which the build makes export it), all sharing one
// WebAssembly module (one download, one instantiation) and taking their entry from the
// manifest; each loads its metadata and filter files. A query runs on every shard; then
//   - counts (the total and every filter value's) are the sums over the shards: exact;
//   - "newest"/"oldest": the shards hold disjoint date ranges, so the archive's order is
//     the shards in date order, each in the order Pagefind sorts it (by the date sort key);
//   - best match: Pagefind scores with each shard's own statistics (BM25: a word rare in one
//     shard weighs more there), so each shard's scores are rescaled by the ratio of the
//     query's IDF over the whole archive to its IDF in that shard before one list is made.
// Only the results shown (one page) have their fragments fetched.
"use strict";

let ready = null; // resolves to {manifest, shards: [{info, index}]}
let last = null; // {key, merged: {results, total, counts}} of the last search
let latest = 0; // the id of the newest search asked for: an older one stops where it can

self.addEventListener("message", (event) => {
  const message = event.data || {};
  if (message.type === "init") {
    ready = start(message.bundle, message.base);
    ready.then((state) => self.postMessage({ type: "ready", filters: state.manifest.filters,
                                             pages: state.manifest.pages }),
               (error) => self.postMessage({ type: "error", id: 0, message: String(error && error.message || error) }));
  } else if (message.type === "search") {
    latest = message.id;
    run(message).then((reply) => reply && self.postMessage(reply),
                      (error) => self.postMessage({ type: "error", id: message.id,
                                                    message: String(error && error.message || error) }));
  }
});

async function start(bundle, base) {
  const response = await fetch(bundle + "shards.json", { cache: "no-cache" });
  if (!response.ok) throw new Error("the search index is missing (" + response.status + ")");
  const manifest = await response.json();
  const version = "?v=" + encodeURIComponent(manifest.runtime);
  const [runtime, wasmBytes] = await Promise.all([
    import(bundle + "pagefind.js" + version),
    fetch(bundle + "wasm." + manifest.wasm + ".pagefind" + version).then((r) => {
      if (!r.ok) throw new Error("Pagefind's WebAssembly is missing (" + r.status + ")");
      return r.arrayBuffer();
    }),
  ]);
  const Instance = runtime.PagefindInstance;
  // One WebAssembly module for every shard: initialised once, then each instance's own
  // loadWasm is this promise (Pagefind would fetch a copy from each shard's folder).
  const loader = new Instance({ basePath: bundle, baseUrl: base });
  const wasm = loader.backend({ module_or_path: loader.decompress(new Uint8Array(wasmBytes), "WebAssembly") });
  const shards = manifest.shards.map((info) => {
    const index = new Instance({ basePath: bundle + info.path, baseUrl: base });
    index.loadWasm = () => wasm;
    // The manifest carries each shard's entry file (the name of its metadata file): one
    // request less per shard.
    index.loadEntry = async () => {
      index.languages = info.languages;
      index.loadedVersion = info.version;
      index.includeCharacters = manifest.include_characters;
    };
    return { info, index, loading: index.init(manifest.language, { load_wasm: true }) };
  });
  await Promise.all(shards.map((shard) => shard.loading));
  // Playground mode names the query's stems and the words each result was scored on: fullAnswers needs them.
  await Promise.all(shards.map((shard) => shard.index.enterPlaygroundMode()));
  return { manifest, shards, filters: null };
}

// Pagefind counts filter values only over the filter files it loaded (a search loads the
// ones it filters by). Every shard's are loaded after the first results are out.
function allFilters(state) {
  if (!state.filters) state.filters = Promise.all(state.shards.map((shard) => shard.index.filters()));
  return state.filters;
}

const SORTS = { newest: "desc", oldest: "asc" };

async function run({ id, term, filters, sort, page, size }) {
  const state = await ready;
  term = (term || "").trim();
  // Browsing (no query) has nothing to rank by: newest first.
  const order = SORTS[sort] || (term ? "" : "desc");
  const key = JSON.stringify([term, filters, order]);
  const loaded = state.filtersLoaded;
  if (!last || last.key !== key) {
    const merged = await searchAll(state, term, filters || {}, order);
    // A newer search was asked for meanwhile (a reader refining the query): the page waits
    // for that one alone, so this one fetches no fragments and counts nothing.
    if (id !== latest) return null;
    last = { key, merged, counted: loaded };
  }
  const current = last;
  const { results, total } = current.merged;
  const pages = Math.max(1, Math.ceil(total / size));
  page = Math.min(Math.max(1, page | 0), pages);
  const shown = await Promise.all(results.slice((page - 1) * size, page * size).map(async (result) => {
    const data = await result.data();
    const meta = data.meta || {};
    return { url: data.url, title: meta.title || data.url, date: meta.date || "",
             datetime: meta.datetime || "", excerpt: term ? data.excerpt : (meta.summary || data.excerpt) };
  }));
  if (!current.counted) {
    // The results first; the filter counts follow once every shard's filter files are in.
    self.postMessage({ type: "results", id, total, counts: null, page, pages, results: shown });
    await allFilters(state);
    state.filtersLoaded = true;
    // Counting is a second search of every shard (seconds at 100,000 articles), one shard at
    // a time: a newer search stops it (and counts for itself) instead of waiting behind it.
    const found = await answers(state, term, filters || {}, order, () => id === latest);
    if (!found) return null;
    current.merged.counts = tally(found).counts;
    current.counted = true;
    return { type: "counts", id, counts: current.merged.counts };
  }
  return { type: "results", id, total, counts: current.merged.counts, page, pages, results: shown };
}

// Every shard's answer (those that only matched a shorter word left out: fullAnswers). With
// ``wanted``, the shards are searched one at a time and ``wanted()`` is asked before each:
// null once it says no. Without, all at once (their word chunks download together).
async function answers(state, term, filters, order, wanted) {
  const options = { filters };
  if (order) options.sort = { date: order };
  if (!wanted) {
    return fullAnswers(term, await Promise.all(state.shards.map((shard) => shard.index.search(term || null, options))));
  }
  const found = [];
  for (const shard of state.shards) {
    await nextTask();
    if (!wanted()) return null;
    found.push(await shard.index.search(term || null, options));
  }
  return fullAnswers(term, found);
}

// A shard whose files are loaded is searched without leaving the microtask queue, so a loop
// over them would read no message (a newer search) until it ended: each step waits for a
// task of its own, queued behind any message that arrived (a MessageChannel: no timer delay).
const wakeups = [];
const channel = new MessageChannel();
channel.port1.onmessage = () => wakeups.shift()();
function nextTask() {
  return new Promise((resolve) => {
    wakeups.push(resolve);
    channel.port2.postMessage(0);
  });
}

// The total and every filter value's count: sums over the shards' answers.
function tally(found) {
  const counts = {};
  let total = 0;
  found.forEach((answer) => {
    total += answer.results.length;
    for (const [name, values] of Object.entries(answer.filters || {})) {
      const into = counts[name] || (counts[name] = {});
      for (const [value, count] of Object.entries(values)) into[value] = (into[value] || 0) + count;
    }
  });
  return { total, counts };
}

async function searchAll(state, term, filters, order) {
  const found = await answers(state, term, filters, order);
  const { total, counts } = tally(found);
  // Each shard's own order: Pagefind's score is the rank (a date sort) or the relevance.
  const perShard = found.map((answer) => answer.results.slice().sort((a, b) => b.score - a.score));
  let results;
  if (order) {
    // Shards are newest first in the manifest, with disjoint date ranges.
    results = (order === "desc" ? perShard : perShard.slice().reverse()).flat();
  } else {
    const factors = await idfFactors(state, term, found);
    const scored = [];
    perShard.forEach((list, shard) => list.forEach((result, rank) =>
      scored.push({ result, score: result.score * factors[shard], shard, rank })));
    scored.sort((a, b) => b.score - a.score || a.shard - b.shard || a.rank - b.rank);
    results = scored.map((item) => item.result);
  }
  return { results, total, counts };
}

// Pagefind answers a word with every word of its index that extends it ("plexorian" finds
// "plexorianzq"), or when none does, with the word sharing its longest prefix
// ("benchmarkzz" finds "benchmark"). Over one index the prefix is taken only when no page
// of the archive has the word; each shard would take it on its own, and a shard without
// "benchmark" would add the pages of "be…" words to the one page that has it. So, for each
// of the query's stems (playground mode names them, and the words each result was scored
// on), a shard whose words do not extend the stem while another shard's do is left out, its
// results and its counts; when no shard's do, the shards that fell back to the archive's
// longest prefix stay, as one index would answer.
const NO_ANSWER = { results: [], unfilteredResultCount: 0, filters: {} };
const QUOTED = /^\s*".+"\s*$/; // an exact search: Pagefind takes no prefixes

function scoredWords(answer) {
  const words = new Set();
  answer.results.forEach((result) => {
    (result.scores || []).forEach((score) => words.add(score.search_term)); // in the text
    (result.verbose_meta_scores || []).forEach((meta) => (meta.matched_terms || []).forEach((word) => words.add(word)));
  });
  return words;
}

function fullAnswers(term, found) {
  if (!term || QUOTED.test(term)) return found; // browsing, or a quoted search (exact: no prefixes)
  const stems = (found.find((answer) => answer.search_keywords) || {}).search_keywords || [];
  if (!stems.length) return found;
  // Per shard and stem: whether a word it matched extends the stem, and the longest of its
  // words the stem extends (the prefix it fell back to).
  const matched = found.map((answer) => [...scoredWords(answer)]);
  const proper = matched.map((words) => stems.map((stem) => words.some((word) => word.startsWith(stem))));
  const prefix = matched.map((words) => stems.map((stem) => words.filter((word) => stem.startsWith(word))
    .reduce((longest, word) => (word.length > longest.length ? word : longest), "")));
  const answered = stems.map((stem, k) => proper.some((row) => row[k]));
  const longest = stems.map((stem, k) => prefix.reduce((best, row) => (row[k].length > best.length ? row[k] : best), ""));
  return found.map((answer, s) => {
    if (!answer.results.length) return answer;
    const kept = stems.every((stem, k) => proper[s][k] || (!answered[k] && prefix[s][k] === longest[k]));
    return kept ? answer : NO_ANSWER;
  });
}

// IDF as Pagefind computes it (pagefind_web/src/search.rs, calculate_idf).
function idf(pages, containing) {
  return Math.log((pages - containing + 0.5) / (containing + 0.5) + 1);
}

// For each shard, (the query's IDF over the whole archive) / (its IDF in that shard).
// A word's page count in a shard is the unfiltered count of a search for that word alone:
// for a one-word query that is the search just made; for more words, one search per word
// and shard, filtered to nothing so that Pagefind only counts (its chunks are loaded).
async function idfFactors(state, term, found) {
  const words = term.replace(/^"|"$/g, "").split(/\s+/).filter(Boolean);
  if (!words.length || QUOTED.test(term)) return state.shards.map(() => 1);
  let perWord; // [word][shard] → pages containing it
  if (words.length === 1) {
    perWord = [found.map((answer) => answer.unfilteredResultCount)];
  } else {
    const none = {};
    none[Object.keys(state.manifest.filters)[0] || "year"] = "\u0000";
    perWord = await Promise.all(words.map((word) => Promise.all(state.shards.map((shard) =>
      shard.index.search(word, { filters: none }).then((answer) => answer.unfilteredResultCount)))));
  }
  const archivePages = state.manifest.pages;
  const archiveIdf = perWord.reduce((sum, counts) =>
    sum + idf(archivePages, counts.reduce((a, b) => a + b, 0)), 0);
  return state.shards.map((shard, s) => {
    const shardIdf = perWord.reduce((sum, counts) => sum + idf(shard.info.pages, counts[s]), 0);
    return shardIdf > 0 ? archiveIdf / shardIdf : 1;
  });
}
