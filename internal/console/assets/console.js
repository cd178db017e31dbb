// Switchboard console: small enhancements only. Every page works without
// this script; it localizes times, copies snippets, follows the links that
// continue a flow, and keeps the playground's form in step with its choice.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Times in the viewer's locale and time zone.
  for (const t of document.querySelectorAll("time[datetime]")) {
    const d = new Date(t.getAttribute("datetime"));
    if (!isNaN(d)) {
      t.title = t.textContent;
      t.textContent = d.toLocaleString();
    }
  }

  // Time filters: shown in the viewer's time zone, sent as RFC 3339 with
  // the zone, so that the server needs no guess.
  const pad = (n) => String(n).padStart(2, "0");
  for (const input of document.querySelectorAll("input[type=datetime-local][data-time]")) {
    const d = new Date(input.dataset.time);
    if (input.dataset.time && /[zZ]|[+-]\d\d:\d\d$/.test(input.dataset.time) && !isNaN(d)) {
      input.value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    }
  }
  const filters = document.getElementById("audit-filters");
  if (filters) {
    filters.addEventListener("submit", () => {
      for (const input of filters.querySelectorAll("input[type=datetime-local]")) {
        if (!input.value) continue;
        const d = new Date(input.value); // a datetime-local value is local time
        if (isNaN(d)) continue;
        const hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = input.name;
        hidden.value = d.toISOString();
        filters.appendChild(hidden);
        input.disabled = true;
      }
    });
  }

  // Copy buttons: data-copy names the element whose text to copy.
  for (const b of document.querySelectorAll("button[data-copy]")) {
    b.addEventListener("click", async () => {
      const el = document.getElementById(b.dataset.copy);
      if (!el || !navigator.clipboard) return;
      try {
        await navigator.clipboard.writeText(el.textContent);
        b.textContent = "Copied";
        setTimeout(() => { b.textContent = "Copy"; }, 1500);
      } catch (_) {
        b.textContent = "Select and copy";
      }
    });
  }

  // Links that continue a flow (to the OAuth provider, back from it) are
  // followed at once; without the script they are a button to click.
  const follow = document.querySelector("a[data-follow]");
  if (follow) location.assign(follow.href);

  // The playground: choosing another command or action loads its form.
  const pick = document.getElementById("name");
  const kind = document.getElementById("kind");
  if (pick && kind && pick.tagName === "SELECT") {
    pick.addEventListener("change", () => {
      const opt = pick.selectedOptions[0];
      const q = new URLSearchParams({ kind: opt.dataset.kind, name: opt.value });
      location.assign("/console/playground?" + q.toString());
    });
  }

  // Sessions: a minted token runs a command through the browser SDK, as an
  // embedding page would (the SDK is served by this server).
  const tryBox = document.getElementById("try");
  if (tryBox) {
    tryBox.hidden = false;
    document.getElementById("try-run").addEventListener("click", async () => {
      const out = document.getElementById("try-out");
      out.hidden = false;
      out.textContent = "Running…";
      try {
        const { connect } = await import("/sdk/v1/switchboard.mjs");
        const token = document.getElementById("session-token").textContent.trim();
        const sb = connect({ server: location.origin, token });
        const urlArgs = JSON.parse(document.getElementById("try-args").value || "{}");
        const headers = JSON.parse(document.getElementById("try-headers").value || "{}");
        const run = await sb.command.run(document.getElementById("try-command").value, { urlArgs, headers });
        out.textContent = JSON.stringify(run, null, 2);
      } catch (e) {
        const [err, data] = Array.isArray(e) ? e : [e];
        out.textContent = String((err && err.message) || err) + (data ? "\n" + JSON.stringify(data, null, 2) : "");
      }
    });
  }

  // Registering: a chosen file fills the text area, so that its problems
  // can be fixed in place.
  const file = document.getElementById("file");
  const text = document.getElementById("definition");
  if (file && text) {
    file.addEventListener("change", async () => {
      if (file.files.length) {
        text.value = await file.files[0].text();
        file.value = "";
      }
    });
  }
  // A problem's marker puts the cursor at its line and column.
  for (const m of document.querySelectorAll(".marker[data-line]")) {
    m.addEventListener("click", () => {
      if (!text) return;
      const line = +m.dataset.line, col = +m.dataset.column || 1;
      const lines = text.value.split("\n");
      let pos = 0;
      for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
      pos += col - 1;
      text.focus();
      text.setSelectionRange(pos, pos + 1);
    });
  }
});
