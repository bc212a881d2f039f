// eosweep dashboard: keeps the live part of a page current. The page's
// <main id="live"> names its live part (data-live) and its event stream
// (data-events); on every "update" event the live part is fetched again and
// swapped in once its new figures have loaded, so nothing flickers.
"use strict";
(function () {
  const live = document.getElementById("live");
  const conn = document.getElementById("conn");
  if (!live || !live.dataset.live || !live.dataset.events) {
    return;
  }
  const setState = (s) => { if (conn) { conn.dataset.state = s; conn.textContent = s; } };
  let busy = false;
  let again = false;

  // preload resolves once every image of the new content that the page
  // does not show yet has loaded (or failed to).
  function preload(root) {
    const shown = new Set(Array.from(live.querySelectorAll("img"), (i) => i.getAttribute("src")));
    const fresh = Array.from(root.querySelectorAll("img"), (i) => i.getAttribute("src")).filter((s) => s && !shown.has(s));
    return Promise.all(fresh.map((src) => new Promise((done) => {
      const img = new Image();
      img.onload = done;
      img.onerror = done;
      img.src = src;
    })));
  }

  // keepImages puts the page's own <img> elements, already drawn, in place
  // of the new content's images of the same source.
  function keepImages(root) {
    const old = new Map(Array.from(live.querySelectorAll("img"), (i) => [i.getAttribute("src"), i]));
    for (const img of root.querySelectorAll("img")) {
      const same = old.get(img.getAttribute("src"));
      if (same) {
        old.delete(img.getAttribute("src"));
        img.replaceWith(same);
      }
    }
  }

  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const r = await fetch(live.dataset.live, { credentials: "same-origin", cache: "no-store" });
      if (r.status === 401) { window.location.reload(); return; }
      if (!r.ok) { return; }
      const tpl = document.createElement("template");
      tpl.innerHTML = await r.text();
      await preload(tpl.content);
      keepImages(tpl.content);
      live.replaceChildren(tpl.content);
      live.dataset.updated = String(Date.now());
    } catch (e) {
      setState("reconnecting");
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }

  const es = new EventSource(live.dataset.events);
  es.addEventListener("open", () => setState("live"));
  es.addEventListener("update", () => {
    setState("live");
    refresh(); // the first one too: the page may be older than the stream's first look

  });
  es.addEventListener("gone", () => { es.close(); setState("ended"); });
  es.addEventListener("error", () => {
    if (es.readyState === EventSource.CLOSED) { setState("ended"); } else { setState("reconnecting"); }
  });
  window.addEventListener("pagehide", () => es.close());
})();
