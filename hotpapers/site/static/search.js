// Search the archive: filter search.json by every word typed (title, authors, categories).
// Results are built with textContent only: stored titles never become markup.
"use strict";
(() => {
  const input = document.getElementById("q");
  const list = document.getElementById("results");
  const status = document.getElementById("status");
  const LIMIT = 100;
  let papers = [];

  const haystack = (p) => [p.id, p.title, p.authors.join(" "), p.categories.join(" ")]
    .join(" ").toLowerCase();

  function result(paper) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = "../" + paper.url;
    link.textContent = paper.title;
    link.dir = "auto";
    const meta = document.createElement("p");
    meta.className = "meta";
    meta.textContent = `${paper.authors.join(", ")} · ${paper.categories.join(", ")} · ${paper.days[0]}`;
    item.append(link, meta);
    return item;
  }

  function show() {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    const url = new URL(location.href);
    if (words.length) url.searchParams.set("q", input.value); else url.searchParams.delete("q");
    history.replaceState(null, "", url);
    const found = words.length
      ? papers.filter((p) => words.every((w) => p.text.includes(w)))
      : [];
    list.replaceChildren(...found.slice(0, LIMIT).map(result));
    status.textContent = !words.length ? `${papers.length} papers in the archive.`
      : found.length > LIMIT ? `${found.length} papers match; the newest ${LIMIT} are shown.`
      : `${found.length} paper${found.length === 1 ? "" : "s"} match.`;
  }

  document.getElementById("search").addEventListener("submit", (e) => e.preventDefault());
  input.addEventListener("input", show);
  fetch("../search.json")
    .then((r) => { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then((data) => {
      papers = data.map((p) => ({ ...p, text: haystack(p) }));
      input.value = new URL(location.href).searchParams.get("q") || "";
      input.disabled = false;
      show();
    })
    .catch(() => { status.textContent = "The search index could not be loaded."; });
})();
